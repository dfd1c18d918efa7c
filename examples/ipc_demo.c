/*
 * ipc_demo: the three-process scenario of the .NET documentation for
 * non-persisted memory-mapped files, in C.
 *
 * Process A creates the map "testmap" (10000 bytes) and the mutex
 * "testmapmutex", and writes 1 at offset 0. Process B opens the map, takes
 * the mutex and writes 0 at offset 1 through a stream view; process C
 * writes 1 at offset 2 likewise. Then A reads the three bytes back.
 *
 *     ipc_demo          runs the whole scenario: A starts B and C itself
 *     ipc_demo A        process A, by hand: it asks you to start B, then C,
 *     ipc_demo B        each in another terminal, and to press ENTER after
 *     ipc_demo C        each one
 *
 * The map and the mutex exist only while a process holds them: when A
 * exits, both are gone, even if it is killed.
 */
#define _POSIX_C_SOURCE 200809L
#include <mmf.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#define MAP_NAME "testmap"
#define MUTEX_NAME "testmapmutex"

static int fail(const char *who, const char *what, int rc)
{
    fprintf(stderr, "Process %s: %s: %s (%s)\n", who, what, mmf_strerror(rc),
            mmf_errname(rc));
    return 1;
}

/* Writes a 32-bit value through a stream view at `offset`, as .NET's
 * BinaryWriter.Write(int) does in the original. */
static int write_int(mmf_file *map, uint64_t offset, int32_t value)
{
    mmf_stream *s;
    int rc = mmf_stream_open(map, offset, 0, MMF_ACCESS_READ_WRITE, &s);

    if (rc != MMF_OK)
        return rc;
    rc = mmf_stream_write(s, &value, sizeof value);
    mmf_stream_close(s);
    return rc;
}

static int lock(mmf_mutex *m)
{
    int rc = mmf_mutex_lock(m);
    /* MMF_EOWNERDEAD: a previous owner died holding it; we own it now. */
    return rc == MMF_EOWNERDEAD ? MMF_OK : rc;
}

/* Processes B and C: open the map and the mutex, write under the lock. */
static int writer(const char *who, uint64_t offset, int32_t value)
{
    mmf_file *map;
    mmf_mutex *mutex;
    int rc;

    rc = mmf_open_existing(MAP_NAME, MMF_ACCESS_READ_WRITE, 0, &map);
    if (rc != MMF_OK)
        return fail(who, "open map " MAP_NAME " (is process A running?)", rc);
    rc = mmf_mutex_open_existing(MUTEX_NAME, &mutex);
    if (rc != MMF_OK)
        return fail(who, "open mutex " MUTEX_NAME, rc);
    rc = lock(mutex);
    if (rc != MMF_OK)
        return fail(who, "lock", rc);
    rc = write_int(map, offset, value);
    mmf_mutex_unlock(mutex);
    mmf_mutex_close(mutex);
    mmf_close(map);
    return rc == MMF_OK ? 0 : fail(who, "write", rc);
}

/* Starts this program again as process `who` and waits for it. */
#ifdef _WIN32
static int run_child(const char *self, const char *who)
{
    char cmd[MAX_PATH + 16];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD code = 1;

    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    fflush(NULL);
    snprintf(cmd, sizeof cmd, "\"%s\" %s", self, who);
    if (!CreateProcessA(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
        return -1;
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)code;
}
#else
static int run_child(const char *self, const char *who)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl(self, self, who, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}
#endif

static void wait_enter(const char *prompt)
{
    int c;

    printf("%s\n", prompt);
    fflush(stdout);
    while ((c = getchar()) != '\n' && c != EOF)
        ;
}

static int process_a(const char *self, int by_hand)
{
    mmf_file *map;
    mmf_mutex *mutex;
    mmf_stream *s;
    unsigned char says[3];
    int rc;

    rc = mmf_create_new(MAP_NAME, 10000, MMF_ACCESS_READ_WRITE, 0, &map);
    if (rc != MMF_OK)
        return fail("A", "create map " MAP_NAME, rc);
    /* Owned at once, so B and C wait until A has written its byte. */
    rc = mmf_mutex_create(MUTEX_NAME, 1, 0, &mutex);
    if (rc != MMF_OK)
        return fail("A", "create mutex " MUTEX_NAME, rc);
    if (!mmf_mutex_created(mutex) && (rc = lock(mutex)) != MMF_OK)
        return fail("A", "lock", rc);
    rc = write_int(map, 0, 1);
    if (rc != MMF_OK)
        return fail("A", "write", rc);
    mmf_mutex_unlock(mutex);

    if (by_hand) {
        wait_enter("Start Process B and press ENTER to continue.");
        wait_enter("Start Process C and press ENTER to continue.");
    } else if (run_child(self, "B") != 0 || run_child(self, "C") != 0) {
        fprintf(stderr, "Process A: process B or C failed\n");
        return 1;
    }

    rc = lock(mutex);
    if (rc != MMF_OK)
        return fail("A", "lock", rc);
    rc = mmf_stream_open(map, 0, 0, MMF_ACCESS_READ, &s);
    if (rc == MMF_OK)
        rc = mmf_stream_read(s, says, sizeof says, NULL);
    mmf_stream_close(s);
    mmf_mutex_unlock(mutex);
    if (rc != MMF_OK)
        return fail("A", "read", rc);
    printf("Process A says: %s\n", says[0] ? "True" : "False");
    printf("Process B says: %s\n", says[1] ? "True" : "False");
    printf("Process C says: %s\n", says[2] ? "True" : "False");
    mmf_mutex_close(mutex);
    mmf_close(map);
    return 0;
}

int main(int argc, char **argv)
{
#ifdef _WIN32
    char self[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, self, sizeof self);

    if (n == 0 || n >= sizeof self)
        snprintf(self, sizeof self, "%s", argv[0]);
#else
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (n > 0)
        self[n] = '\0';
    else
        snprintf(self, sizeof self, "%s", argv[0]);
#endif
    if (argc == 1)
        return process_a(self, 0);
    if (strcmp(argv[1], "A") == 0)
        return process_a(self, 1);
    if (strcmp(argv[1], "B") == 0)
        return writer("B", 1, 0);
    if (strcmp(argv[1], "C") == 0)
        return writer("C", 2, 1);
    fprintf(stderr, "usage: %s [A|B|C]\n", argv[0]);
    return 2;
}
