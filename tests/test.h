/*
 * The test runner's small framework. Each TEST(name) at the start of a line
 * is registered with CTest by CMake (one process per test). A failed check
 * prints where and why and ends the test's process with status 1; SKIP ends
 * it with 77, which CTest reports as skipped. HELPER(name) defines a
 * function that multi-process tests start as a child with t_spawn.
 */
#ifndef MMF_TEST_H
#define MMF_TEST_H

#include "mmf.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The separator t_path puts between the directory and the name. */
#ifdef _WIN32
#define T_DIR_SEP '\\'
#else
#define T_DIR_SEP '/'
#endif

typedef void (*t_fn)(void);
typedef int (*t_helper_fn)(int argc, char **argv);
void t_register(const char *name, t_fn fn);
void t_register_helper(const char *name, t_helper_fn fn);
void t_register_skip(const char *name, const char *reason);

#define TEST(name)                                                             \
    static void test_##name(void);                                             \
    __attribute__((constructor)) static void reg_##name(void)                  \
    {                                                                          \
        t_register(#name, test_##name);                                        \
    }                                                                          \
    static void test_##name(void)

#define HELPER(name)                                                           \
    static int helper_##name(int argc, char **argv);                           \
    __attribute__((constructor)) static void reg_helper_##name(void)           \
    {                                                                          \
        t_register_helper(#name, helper_##name);                               \
    }                                                                          \
    static int helper_##name(int argc, char **argv)

/*
 * A test of the Linux suite that cannot apply on Windows: the test itself
 * sits in an #ifndef _WIN32 block, and this line (outside it) makes the
 * Windows runner report it as skipped, by name and with the reason. On
 * POSIX it expands to nothing.
 */
#ifdef _WIN32
#define NOT_ON_WINDOWS(name, reason)                                           \
    __attribute__((constructor)) static void skip_##name(void)                 \
    {                                                                          \
        t_register_skip(#name, reason);                                        \
    }
#else
#define NOT_ON_WINDOWS(name, reason)
#endif

/* mingw builds the tests with its C99 printf (__USE_MINGW_ANSI_STDIO). */
#ifdef _WIN32
#define T_PRINTF gnu_printf
#else
#define T_PRINTF printf
#endif
void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(T_PRINTF, 3, 4)));
void t_skip(const char *fmt, ...)
    __attribute__((noreturn, format(T_PRINTF, 1, 2)));

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            t_fail(__FILE__, __LINE__, "check failed: %s", #cond);             \
    } while (0)

/* An MMF_* return code, compared by value and printed by name. */
#define CHECK_RC(expr, want)                                                   \
    do {                                                                       \
        int got_ = (expr), want_ = (want);                                     \
        if (got_ != want_)                                                     \
            t_fail(__FILE__, __LINE__, "%s\n  returned %s (%d), want %s (%d)", \
                   #expr, mmf_errname(got_), got_, mmf_errname(want_), want_); \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, MMF_OK)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                       \
        if (a_ != b_)                                                          \
            t_fail(__FILE__, __LINE__,                                         \
                   "%s == %s\n  got %" PRIu64 " (0x%" PRIx64                   \
                   "), want %" PRIu64 " (0x%" PRIx64 ")",                      \
                   #a, #b, a_, a_, b_, b_);                                    \
    } while (0)

#define CHECK_MEM(a, b, n)                                                     \
    do {                                                                       \
        if (memcmp((a), (b), (n)) != 0)                                        \
            t_fail(__FILE__, __LINE__, "bytes differ: %s vs %s (%zu bytes)",   \
                   #a, #b, (size_t)(n));                                       \
    } while (0)

#define SKIP(...) t_skip(__VA_ARGS__)

/* A private temporary directory for this test, removed at exit. */
const char *t_dir(void);
/* t_dir()/name; the string lives until exit. */
const char *t_path(const char *name);
/* Sets the size of an existing file (truncate / SetEndOfFile). */
void t_set_size(const char *path, uint64_t size);
/* Creates (or replaces) a file of `size` bytes; byte i is pattern(i). */
void t_make_file(const char *path, uint64_t size, int pattern);
/* The value pattern p gives byte i: p < 0 → (i * 7 + 3) & 0xff, else p. */
unsigned char t_pattern(int pattern, uint64_t i);
/* The file's size, or -1 if it does not exist. */
int64_t t_file_size(const char *path);
int t_exists(const char *path);
/* Reads n bytes at off with pread; fails the test on error. */
void t_pread(const char *path, uint64_t off, void *buf, size_t n);
/* Writes n bytes at off with pwrite; fails the test on error. */
void t_pwrite(const char *path, uint64_t off, const void *buf, size_t n);

/* Shared fixtures: a file of `size` bytes of pattern -1 mapped with
 * `access` (MMF_MODE_OPEN); an anonymous map; a view. Each fails the test
 * if the call does. */
mmf_file *t_file_map(const char *path, uint64_t size, int access);
mmf_file *t_anon_map(uint64_t size, int access);
mmf_view *t_open_view(mmf_file *f, uint64_t off, uint64_t size, int access);
/* Do the n bytes at p hold pattern -1 from offset off? All equal to c? */
int t_is_pattern(const void *p, uint64_t off, size_t n);
int t_all_bytes(const void *p, int c, size_t n);
/* Do the file's bytes [off, off+n) hold pattern -1? */
int t_file_is_pattern(const char *path, uint64_t off, size_t n);

/* Opens an existing file read-only or read-write: a descriptor on POSIX, a
 * HANDLE on Windows (for mmf_create_from_handle). */
mmf_handle t_open_handle(const char *path, int writable);
void t_close_handle(mmf_handle h);

/* Starts this runner again as `--helper name args...` (fork+exec on POSIX,
 * CreateProcess with inherited handles on Windows); returns its pid. */
pid_t t_spawn(const char *name, const char *const *args);
/* Waits for a child and returns its exit status (128+sig if killed). */
int t_wait(pid_t pid);
/* Kills a child at once: SIGKILL, or TerminateProcess with status 137 so
 * that t_wait reports the same status on both. */
void t_kill(pid_t pid);
int t_self_pid(void);
void t_sleep_ms(unsigned ms);

/* Number of open file descriptors (Windows: handles) of this process. */
int t_fd_count(void);

/* Fault injection (the test builds of the library have it). */
#ifndef _WIN32
#include "posix/fault_posix.h"
#else
#include "win/fault_win.h"
#endif

#endif
