import SluiceCore

extension Parser {
    /// Zero or more `@name(…)` in a row.
    mutating func parseAnnotations() throws(Diagnostic) -> [Annotation] {
        var result: [Annotation] = []
        while at(.atSign) {
            result.append(try parseAnnotation())
        }
        return result
    }

    /// `@name`, `@app:name('x')`, `@sink(type='http', @map(type='json'))`. The name keeps its written case.
    mutating func parseAnnotation() throws(Diagnostic) -> Annotation {
        try enterNested()
        defer { leaveNested() }
        let begin = start
        advance() // @
        var name = try parseName("an annotation name after '@'").name
        if consume(.colon) != nil {
            name += ":" + (try parseName("a name after '@\(name):'").name)
        }
        var elements: [AnnotationElement] = []
        var nested: [Annotation] = []
        if consume(.leftParen) != nil {
            if !at(.rightParen) {
                repeat {
                    if at(.atSign) {
                        nested.append(try parseAnnotation())
                    } else {
                        elements.append(try parseAnnotationElement(of: name))
                    }
                } while consume(.comma) != nil
            }
            try expect(.rightParen, "',' or ')' to close the annotation '@\(name)'")
        }
        return Annotation(name: name, elements: elements, annotations: nested, range: range(from: begin))
    }

    /// `key='value'`, `dotted.key='value'`, `'quoted key'='value'` or a lone `'value'`.
    private mutating func parseAnnotationElement(of annotation: String) throws(Diagnostic) -> AnnotationElement {
        let begin = start
        var key: String?
        if at(.string), peek().kind == .assign {
            key = advance().text
            advance()
        } else if token.isName {
            let isBareBool = (token.keyword == .true || token.keyword == .false)
                && (peek().kind == .comma || peek().kind == .rightParen)
            if !isBareBool {
                // Keys may be dotted or dashed: `publisher.url`, `idle.period`, `client-id`.
                var path = advance().text
                while at(.dot) || at(.minus) || at(.colon) {
                    let separator = advance().text
                    path += separator + (try parseName("a key part after '\(path)\(separator)'").name)
                }
                key = path
                try expect(.assign, "'=' after the annotation key '\(path)'")
            }
        }
        let value = try parseAnnotationValue(key: key, annotation: annotation)
        return AnnotationElement(key: key, value: value, range: range(from: begin))
    }

    /// Values are strings; unquoted numbers and booleans keep their text.
    private mutating func parseAnnotationValue(key: String?, annotation: String) throws(Diagnostic) -> String {
        if at(.string) || token.isNumber {
            return advance().text
        }
        if at(.minus), peek().isNumber {
            advance()
            return "-" + advance().text
        }
        if at(.true) || at(.false) {
            return advance().text
        }
        if let key {
            throw unexpected("a quoted value for '\(key)'")
        }
        throw unexpected("an element of the annotation '@\(annotation)'")
    }
}
