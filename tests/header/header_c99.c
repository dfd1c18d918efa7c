/* Compiled as strict C99 with -Wpedantic: the public header must be plain
 * C99 with no OS headers. Runs a small round trip through the inline
 * accessors so that they are compiled and used, not just declared. */
#include "mmf.h"

#include <stdio.h>

int main(void)
{
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    uint32_t got = 0;

    if (mmf_create_new(NULL, 4096, MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK ||
        mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v) != MMF_OK ||
        mmf_view_write_u32(v, 4092, 0xdeadbeefu) != MMF_OK ||
        mmf_view_read_u32(v, 4092, &got) != MMF_OK || got != 0xdeadbeefu ||
        mmf_view_read_u32(v, 4093, &got) != MMF_ERANGE) {
        fprintf(stderr, "header round trip failed\n");
        return 1;
    }
    mmf_view_close(v);
    mmf_close(f);
#if !defined(MMF_EOWNERDEAD) || !defined(MMF_ACCESS_COPY_ON_WRITE) ||          \
    !defined(MMF_OPT_KEEP_NAME) || !defined(MMF_FLUSH_DURABLE)
#error "codes and flags must be usable with #ifdef"
#endif
    printf("header ok (C99), libmmf %s\n", mmf_version_string());
    return 0;
}
