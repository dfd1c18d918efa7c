/*
 * The fault guard under wine: maps a file, lets the host truncate it
 * (run_fault.sh does, which Windows itself would refuse while the file is
 * mapped), then checks that guarded calls report MMF_EIO, raw reads see
 * zeros instead of crashing, and mmf_read recovers the bytes still backed.
 *
 *     smoke_fault FILE    writes FILE.ready once mapped, waits for FILE to
 *                         shrink
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <mmf.h>

#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(c)                                                               \
    do {                                                                       \
        if (c) {                                                               \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            printf("FAIL line %d: %s\n", __LINE__, #c);                        \
        }                                                                      \
    } while (0)

static uint64_t file_size(const char *path)
{
    WIN32_FILE_ATTRIBUTE_DATA a;

    if (!GetFileAttributesExA(path, GetFileExInfoStandard, &a))
        return UINT64_MAX;
    return (uint64_t)a.nFileSizeHigh << 32 | a.nFileSizeLow;
}

int main(int argc, char **argv)
{
    const uint64_t size = 4 << 20, deep = 3 << 20;
    char ready[MAX_PATH];
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    volatile unsigned char *raw;
    unsigned char buf[8];
    uint32_t x = 0;
    HANDLE h;
    int i;

    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 2)
        return 2;
    snprintf(ready, sizeof ready, "%s.ready", argv[1]);
    CHECK(mmf_create_from_file(argv[1], MMF_MODE_CREATE, NULL, size,
                               MMF_ACCESS_READ_WRITE, 0, &f) == MMF_OK);
    if (f == NULL)
        return 1;
    CHECK(mmf_view_open(f, 100, size - 100, MMF_ACCESS_READ_WRITE, &v) ==
          MMF_OK);
    if (v == NULL)
        return 1;
    CHECK(mmf_view_write_u32(v, 0, 42) == MMF_OK);
    CHECK(mmf_view_write_u32(v, deep, 43) == MMF_OK);
    CHECK(mmf_read(f, deep + 100, &x, 4) == MMF_OK && x == 43);
    CHECK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC) == MMF_OK);

    h = CreateFileA(ready, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    CloseHandle(h);
    for (i = 0; i < 600 && file_size(argv[1]) == size; i++)
        Sleep(50);
    CHECK(file_size(argv[1]) < size);

    /* Past the end of the file now: MMF_EIO, and the view is poisoned. */
    CHECK(mmf_view_read_u32(v, deep, &x) == MMF_EIO);
    CHECK(((const mmf_view_head *)(const void *)v)->poisoned != 0);
    raw = mmf_view_data(v);
    CHECK(raw[deep + 5] == 0); /* zeros, no crash */
    CHECK(mmf_view_read_u32(v, 0, &x) == MMF_EIO);
    CHECK(mmf_view_write(v, 0, "x", 1) == MMF_EIO);
    CHECK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC) == MMF_EIO);
    /* Map-level I/O: the window that met the fault is mapped again. */
    CHECK(mmf_read(f, deep + 100, buf, 4) == MMF_EIO);
    CHECK(mmf_read(f, 100, &x, 4) == MMF_OK && x == 42);
    CHECK(mmf_read(f, deep + 100, buf, 4) == MMF_EIO);
    CHECK(mmf_read(f, 100, &x, 4) == MMF_OK && x == 42);
    CHECK(mmf_view_close(v) == MMF_OK);
    CHECK(mmf_close(f) == MMF_OK);
    DeleteFileA(ready);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
