/*
 * large_file: the persisted-map scenario of the .NET documentation, in C.
 *
 * Creates a 1 GiB sparse file, maps a 512 MiB view of it starting at
 * 256 MiB, treats the view as an array of pixels
 * (struct { int16_t r, g, b, a; }) and brightens every pixel, saturating at
 * INT16_MAX. Then it checks a sample of pixels by reading the file with
 * the operating system's own calls (pread(2), ReadFile on Windows), to show
 * that the bytes really went to the file.
 *
 *     large_file [FILE]      default: a temporary file, removed at the end
 */
#define _POSIX_C_SOURCE 200809L
#include <mmf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <io.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#endif

#define MiB (UINT64_C(1) << 20)
#define FILE_SIZE (1024 * MiB)
#define VIEW_OFFSET (256 * MiB)
#define VIEW_SIZE (512 * MiB)
#define BRIGHTEN 10

typedef struct pixel {
    int16_t r, g, b, a;
} pixel;

/* The few OS calls the example needs besides libmmf: a clock, a file
 * read at an offset, the temporary directory. */
#ifdef _WIN32
typedef HANDLE os_file;

static double now(void)
{
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return (double)t.QuadPart / (double)f.QuadPart;
}

static int os_open(const char *path, os_file *out)
{
    *out = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                       NULL, OPEN_EXISTING, 0, NULL);
    return *out != INVALID_HANDLE_VALUE;
}

static int os_read_at(os_file h, void *buf, size_t n, uint64_t off)
{
    OVERLAPPED ov;
    DWORD got = 0;

    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    return ReadFile(h, buf, (DWORD)n, &got, &ov) && got == n;
}

static void os_close(os_file h)
{
    CloseHandle(h);
}

static void temp_file(char *path, size_t n)
{
    char dir[MAX_PATH + 1];
    DWORD k = GetTempPathA(sizeof dir, dir);

    if (k == 0 || k > sizeof dir)
        snprintf(dir, sizeof dir, ".\\");
    snprintf(path, n, "%smmf-large-file-%lu.img", dir, GetCurrentProcessId());
}

#define os_isatty() _isatty(_fileno(stdout))
#define os_error() ((int)GetLastError())
#else
typedef int os_file;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int os_open(const char *path, os_file *out)
{
    *out = open(path, O_RDONLY);
    return *out >= 0;
}

static int os_read_at(os_file fd, void *buf, size_t n, uint64_t off)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

static void os_close(os_file fd)
{
    close(fd);
}

static void temp_file(char *path, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(path, n, "%s/mmf-large-file-%d.img", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
}

#define os_isatty() isatty(STDOUT_FILENO)
#define os_error() errno
#endif

static int16_t brighten(int16_t c)
{
    return c > INT16_MAX - BRIGHTEN ? INT16_MAX : (int16_t)(c + BRIGHTEN);
}

static void progress(uint64_t done, uint64_t total)
{
    int width = 40, filled = (int)(done * (uint64_t)width / total);
    printf("\r  [%.*s%*s] %3d%%", filled,
           "########################################", width - filled, "",
           (int)(done * 100 / total));
    fflush(stdout);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "large_file: %s: %s (%s)\n", what, mmf_strerror(rc),
            mmf_errname(rc));
    return 1;
}

/* A few pixels that start near the top, to show the saturation. */
static const uint64_t bright_pixels[] = {0, 12345, 33554431, 67108863};

/* Reads pixel i of the view's range back from the file with the OS. */
static int check_pixel(os_file fd, uint64_t i, int bright)
{
    pixel p;
    int16_t want = bright ? INT16_MAX : BRIGHTEN;

    if (!os_read_at(fd, &p, sizeof p, VIEW_OFFSET + i * sizeof p)) {
        fprintf(stderr, "large_file: reading the file failed (error %d)\n",
                os_error());
        return 0;
    }
    if (p.r != want || p.g != want || p.b != want ||
        p.a != (bright ? 100 + BRIGHTEN : BRIGHTEN)) {
        fprintf(stderr, "large_file: pixel %llu is (%d,%d,%d,%d)\n",
                (unsigned long long)i, p.r, p.g, p.b, p.a);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    char path[4096];
    int keep = argc > 1, tty = os_isatty();
    uint64_t count = VIEW_SIZE / sizeof(pixel), checked = 0;
    mmf_file *file;
    mmf_view *view;
    double t0, t1, t2;
    os_file fd;
    int rc;

    if (keep)
        snprintf(path, sizeof path, "%s", argv[1]);
    else
        temp_file(path, sizeof path);

    /* 1. A 1 GiB file, sparse: no storage is reserved up front. */
    t0 = now();
    rc = mmf_create_from_file(path, MMF_MODE_CREATE, NULL, FILE_SIZE,
                              MMF_ACCESS_READ_WRITE, MMF_OPT_DELAY_ALLOCATE,
                              &file);
    if (rc != MMF_OK)
        return fail(path, rc);
    printf("created %s: %llu MiB, sparse\n", path,
           (unsigned long long)(mmf_capacity(file) / MiB));

    /* Seed a few pixels with bright values through map-level I/O. */
    for (size_t i = 0; i < sizeof bright_pixels / sizeof *bright_pixels; i++) {
        pixel p = {INT16_MAX - 3, INT16_MAX - 3, INT16_MAX - 3, 100};
        rc = mmf_write(file, VIEW_OFFSET + bright_pixels[i] * sizeof p, &p,
                       sizeof p);
        if (rc != MMF_OK)
            return fail("mmf_write", rc);
    }

    /* 2. A 512 MiB view starting 256 MiB into the file. */
    rc = mmf_view_open(file, VIEW_OFFSET, VIEW_SIZE, MMF_ACCESS_READ_WRITE,
                       &view);
    if (rc != MMF_OK)
        return fail("mmf_view_open", rc);
    printf("view: %llu MiB at offset %llu MiB, %llu pixels of %zu bytes\n",
           (unsigned long long)(mmf_view_size(view) / MiB),
           (unsigned long long)(mmf_view_offset(view) / MiB),
           (unsigned long long)count, sizeof(pixel));
    (void)mmf_view_advise(view, 0, 0, MMF_ADVICE_SEQUENTIAL);

    /* 3. Brighten every pixel with the bounds-checked typed accessors,
     *    which mmf.h inlines. */
    t1 = now();
    for (uint64_t i = 0; i < count; i++) {
        uint64_t pos = i * sizeof(pixel);
        int16_t c[4];
        for (int k = 0; k < 4; k++) {
            rc = mmf_view_read_i16(view, pos + 2 * (uint64_t)k, &c[k]);
            if (rc == MMF_OK)
                rc = mmf_view_write_i16(view, pos + 2 * (uint64_t)k,
                                        brighten(c[k]));
            if (rc != MMF_OK)
                return fail("pixel access", rc);
        }
        if (tty && (i & 0xfffff) == 0)
            progress(i, count);
    }
    if (tty) {
        progress(count, count);
        printf("\n");
    }
    rc = mmf_view_flush(view, 0, 0, MMF_FLUSH_SYNC);
    if (rc != MMF_OK)
        return fail("mmf_view_flush", rc);
    t2 = now();
    printf("brightened %llu pixels in %.2f s (%.0f MiB/s, flush included)\n",
           (unsigned long long)count, t2 - t1,
           (double)VIEW_SIZE / MiB / (t2 - t1));
    mmf_view_close(view);
    mmf_close(file);

    /* 4. Check a sample with the OS's own reads: every 4099th pixel, and
     *    the bright ones, must read back brightened. */
    if (!os_open(path, &fd)) {
        fprintf(stderr, "large_file: open %s failed (error %d)\n", path,
                os_error());
        return 1;
    }
    for (uint64_t i = 0; i < count; i += 4099, checked++)
        if (!check_pixel(fd, i, i == 0))
            return 1;
    for (size_t k = 0; k < sizeof bright_pixels / sizeof *bright_pixels;
         k++, checked++)
        if (!check_pixel(fd, bright_pixels[k], 1))
            return 1;
    os_close(fd);
    printf("verified %llu pixels read back from the file, saturation "
           "included: OK\n",
           (unsigned long long)checked);
    printf("total %.2f s\n", now() - t0);
    if (!keep)
        remove(path);
    return 0;
}
