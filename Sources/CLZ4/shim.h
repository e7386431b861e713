// liblz4's block API (LZ4_compress_default, LZ4_decompress_safe, LZ4_compressBound).
#include <lz4.h>
