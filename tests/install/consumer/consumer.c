#include <mmf.h>
#include <stdio.h>

int main(void)
{
    mmf_file *f;
    uint8_t b = 0;
    if (mmf_create_new(NULL, 100, MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK ||
        mmf_write(f, 99, "x", 1) != MMF_OK ||
        mmf_read(f, 99, &b, 1) != MMF_OK || b != 'x')
        return 1;
    mmf_close(f);
    printf("consumer ok: libmmf %s\n", mmf_version_string());
    return 0;
}
