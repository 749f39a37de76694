/* CRC32 with the zlib/IEEE polynomial: what DynamoDB puts in x-amz-crc32. */
#ifndef DYNAMO_CRC32_H
#define DYNAMO_CRC32_H

#include <stddef.h>
#include <stdint.h>
#include "compat.h"

/* Continues crc over len bytes; start with crc = 0. */
DYN_HIDDEN uint32_t dyn_crc32(uint32_t crc, const void *data, size_t len);
/* crc32_clmul.c: whether this CPU runs dyn_crc32_clmul, which continues
 * the raw (not inverted) crc over len bytes, len >= 64 and a multiple of 16. */
DYN_HIDDEN int dyn_crc32_clmul_ok(void);
DYN_HIDDEN uint32_t dyn_crc32_clmul(uint32_t crc, const unsigned char *p, size_t len);
/* core.crc32(s) -> integer. Registered by http_curl.c. */
DYN_HIDDEN int dyn_crc32_lua(lua_State *L);

#endif
