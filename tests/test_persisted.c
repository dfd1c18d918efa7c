/*
 * Persisted maps: mmf_create_from_file and mmf_create_from_handle, checked
 * against API.md: argument errors (exact code, *out NULL, no OS error, no
 * trace on the file system), modes, capacity rules, storage reservation,
 * file types, copy-on-write, handles, inheritance, permissions, empty and
 * large sparse files, and descriptor leaks.
 *
 * The same tests run on Windows, through the small platform layer below
 * (a descriptor there is a HANDLE; stat, chmod and friends are the file's
 * attributes, times and DACL). Where Windows behaves differently by design
 * (no umask, mode bits a DACL cannot express, named pipes instead of FIFOs,
 * sections instead of memfds), the Windows branch checks what it does
 * instead; what has no Windows counterpart at all is listed with
 * NOT_ON_WINDOWS.
 */
#include "test.h"

#include <errno.h>
#include <limits.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <aclapi.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#define KIB UINT64_C(1024)
#define MIB (UINT64_C(1024) * 1024)
#define GIB (UINT64_C(1024) * 1024 * 1024)
#define CAP_LIMIT (UINT64_C(1) << 63)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The raw codes behind mmf_last_os_error(): errno, or GetLastError(). */
#ifdef _WIN32
#define OS_ENOENT ERROR_FILE_NOT_FOUND
#define OS_EEXIST ERROR_FILE_EXISTS
#define OS_EACCES ERROR_ACCESS_DENIED
#define SEP "\\"
#else
#define OS_ENOENT ENOENT
#define OS_EEXIST EEXIST
#define OS_EACCES EACCES
#define SEP "/"
#endif

/* Fault injection (test builds): the call that reserves a file's storage,
 * the one that maps a file, and the codes they fail with. */
#ifdef _WIN32
#define FAULT_RESERVE MMF__FAULT_SET_ALLOCATION
#define FAULT_MAP MMF__FAULT_CREATE_MAPPING
#define OS_ENOSPC ERROR_DISK_FULL
#define OS_RESERVE_UNSUPPORTED ERROR_NOT_SUPPORTED
#define OS_MAP_UNSUPPORTED ERROR_NOT_SUPPORTED
#define OS_MAP_DENIED ERROR_ACCESS_DENIED
#define OS_ENOMEM ERROR_NOT_ENOUGH_MEMORY
#else
#define FAULT_RESERVE MMF__FAULT_FALLOCATE
#define FAULT_MAP MMF__FAULT_MMAP
#define OS_ENOSPC ENOSPC
#define OS_RESERVE_UNSUPPORTED EOPNOTSUPP
#define OS_MAP_UNSUPPORTED ENODEV
#define OS_MAP_DENIED EPERM
#define OS_ENOMEM ENOMEM
#endif

/* A non-NULL value stored in *out before a call that must fail, so that the
 * test sees whether the call reset it to NULL. */
static char junk_byte;
#define JUNK ((mmf_file *)(void *)&junk_byte)

/* The size of the pre-existing file the argument tables run against. */
#define EXISTING_SIZE 8192

static const int all_accesses[] = {
    MMF_ACCESS_READ_WRITE, MMF_ACCESS_READ, MMF_ACCESS_COPY_ON_WRITE,
    MMF_ACCESS_READ_EXECUTE, MMF_ACCESS_READ_WRITE_EXECUTE};
static const int readonly_accesses[] = {
    MMF_ACCESS_READ, MMF_ACCESS_COPY_ON_WRITE, MMF_ACCESS_READ_EXECUTE};
static const int writable_accesses[] = {MMF_ACCESS_READ_WRITE,
                                        MMF_ACCESS_READ_WRITE_EXECUTE};
static const int all_modes[] = {MMF_MODE_CREATE_NEW, MMF_MODE_CREATE,
                                MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};

/* ---- the platform: files, directories, descriptors ---------------------- */

/* What a path is: lstat's answer, or the file's attributes on Windows. */
struct pstat {
    unsigned mode; /* type and permission bits; Windows: attributes */
    int regular;
    int64_t size;
    int64_t mtime_s, mtime_ns; /* Windows: in 100 ns ticks, in mtime_ns */
};

/* How h_open opens a file (the caller's descriptor in handle tests). */
#define H_NONE 0    /* no read or write rights: O_PATH */
#define H_READ 1    /* O_RDONLY */
#define H_WRITE 2   /* O_WRONLY */
#define H_RDWR 3    /* O_RDWR */
#define H_INHERIT 4 /* without O_CLOEXEC: inherited by children */
#define H_DIR 8     /* a directory */

#ifndef _WIN32

static int path_stat(const char *path, struct pstat *ps)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return 0;
    ps->mode = (unsigned)st.st_mode;
    ps->regular = S_ISREG(st.st_mode);
    ps->size = (int64_t)st.st_size;
    ps->mtime_s = (int64_t)st.st_mtim.tv_sec;
    ps->mtime_ns = (int64_t)st.st_mtim.tv_nsec;
    return 1;
}

/* Sets an old, fixed modification time, so that any write shows. */
static void set_old_mtime(const char *path)
{
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    if (utimensat(AT_FDCWD, path, ts, 0) != 0)
        t_fail(__FILE__, __LINE__, "utimensat %s: %s", path, strerror(errno));
}

/* Entries in the test's directory (to see that nothing else was created). */
static int dir_entries(void)
{
    DIR *d = opendir(t_dir());
    struct dirent *e;
    int n = 0;

    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Bytes of storage the file holds. */
static int64_t file_alloc(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (int64_t)st.st_blocks * 512;
}

static unsigned file_perm(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (unsigned)st.st_mode & 07777u;
}

static void set_file_mode(const char *path, unsigned mode)
{
    CHECK(chmod(path, (mode_t)mode) == 0);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void make_dir(const char *path)
{
    CHECK(mkdir(path, 0755) == 0);
}

static void remove_file(const char *path)
{
    CHECK(unlink(path) == 0);
}

/* Makes the test's directory the current one. */
static void enter_test_dir(void)
{
    CHECK(chdir(t_dir()) == 0);
}

/* SKIPs unless the file system of the test directory supports fallocate
 * (which mmf_create_from_file reserves storage with). */
static void require_reserve(void)
{
    const char *p = t_path("fallocate-probe");
    int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
    int ok;

    CHECK(fd >= 0);
    ok = fallocate(fd, 0, 0, 65536) == 0;
    close(fd);
    unlink(p);
    if (!ok)
        SKIP("the test directory's file system has no fallocate");
}

static mmf_handle h_open(const char *path, int how)
{
    static const int acc[4] = {O_PATH, O_RDONLY, O_WRONLY, O_RDWR};
    int fd = open(path, acc[how & H_RDWR] | (how & H_DIR ? O_DIRECTORY : 0) |
                            (how & H_INHERIT ? 0 : O_CLOEXEC));

    if (fd < 0)
        t_fail(__FILE__, __LINE__, "open %s: %s", path, strerror(errno));
    return (mmf_handle)fd;
}

/* Moves the descriptor's position; returns the new one. */
static int64_t h_seek(mmf_handle h, int64_t pos)
{
    return (int64_t)lseek((int)h, (off_t)pos, SEEK_SET);
}

static int64_t h_pos(mmf_handle h)
{
    return (int64_t)lseek((int)h, 0, SEEK_CUR);
}

static int h_is_open(mmf_handle h)
{
    return fcntl((int)h, F_GETFD) != -1;
}

/* Is the descriptor closed on exec (not inherited)? */
static int h_cloexec(mmf_handle h)
{
    int fl = fcntl((int)h, F_GETFD);
    CHECK(fl != -1);
    return (fl & FD_CLOEXEC) != 0;
}

/* Reads one byte at the descriptor's position, moving it. */
static int h_read1(mmf_handle h, unsigned char *b)
{
    return read((int)h, b, 1) == 1;
}

/* The file's identity (inode), 0 if h is not an open file. */
static uint64_t h_file_id(mmf_handle h)
{
    struct stat st;
    return fstat((int)h, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static int h_same_file(mmf_handle a, mmf_handle b)
{
    struct stat x, y;
    CHECK(fstat((int)a, &x) == 0 && fstat((int)b, &y) == 0);
    return x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

#else /* _WIN32 */

/* FILETIME ticks (100 ns since 1601) at the Unix epoch. */
#define UNIX_EPOCH_TICKS UINT64_C(116444736000000000)

static int path_stat(const char *path, struct pstat *ps)
{
    WIN32_FILE_ATTRIBUTE_DATA a;

    if (!GetFileAttributesExA(path, GetFileExInfoStandard, &a))
        return 0;
    ps->mode = (unsigned)a.dwFileAttributes;
    ps->regular = !(a.dwFileAttributes &
                    (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE));
    ps->size = (int64_t)((uint64_t)a.nFileSizeHigh << 32 | a.nFileSizeLow);
    ps->mtime_s = 0;
    ps->mtime_ns = (int64_t)((uint64_t)a.ftLastWriteTime.dwHighDateTime << 32 |
                             a.ftLastWriteTime.dwLowDateTime);
    return 1;
}

static void set_old_mtime(const char *path)
{
    uint64_t t = UNIX_EPOCH_TICKS + UINT64_C(1000000000) * 10000000;
    FILETIME ft = {(DWORD)t, (DWORD)(t >> 32)};
    HANDLE h =
        CreateFileA(path, FILE_WRITE_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);

    if (h == INVALID_HANDLE_VALUE || !SetFileTime(h, NULL, &ft, &ft))
        t_fail(__FILE__, __LINE__, "SetFileTime %s: %lu", path, GetLastError());
    CloseHandle(h);
}

static int dir_entries(void)
{
    char pat[MAX_PATH + 8];
    WIN32_FIND_DATAA fd;
    HANDLE h;
    int n = 0;

    snprintf(pat, sizeof pat, "%s\\*", t_dir());
    h = FindFirstFileA(pat, &fd);
    CHECK(h != INVALID_HANDLE_VALUE);
    do {
        if (strcmp(fd.cFileName, ".") != 0 && strcmp(fd.cFileName, "..") != 0)
            n++;
    } while (FindNextFileA(h, &fd));
    FindClose(h);
    return n;
}

static int64_t file_alloc(const char *path)
{
    HANDLE h =
        CreateFileA(path, FILE_READ_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    FILE_STANDARD_INFO si;

    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK(GetFileInformationByHandleEx(h, FileStandardInfo, &si, sizeof si));
    CloseHandle(h);
    return (int64_t)si.AllocationSize.QuadPart;
}

/* The rwx bits an access mask grants on a file. */
static unsigned rwx_of(DWORD m)
{
    unsigned b = 0;

    if (m & GENERIC_ALL)
        return 7;
    if (m & (FILE_READ_DATA | GENERIC_READ))
        b |= 4;
    if (m & (FILE_WRITE_DATA | GENERIC_WRITE))
        b |= 2;
    if (m & (FILE_EXECUTE | GENERIC_EXECUTE))
        b |= 1;
    return b;
}

static PSID world_sid(void)
{
    static unsigned char sid[SECURITY_MAX_SID_SIZE];
    DWORD n = sizeof sid;

    CHECK(CreateWellKnownSid(WinWorldSid, NULL, sid, &n));
    return sid;
}

/* The mode a file's DACL expresses, read by path (the tests' stat): the
 * owner's allowed rights, the group's where the DACL names the group,
 * else Everyone's, and Everyone's. */
static unsigned file_perm(const char *path)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL, group = NULL, world = world_sid();
    PACL dacl = NULL;
    unsigned u = 0, g = 0, o = 0;
    int named_group = 0;
    DWORD e = GetNamedSecurityInfoA(path, SE_FILE_OBJECT,
                                    OWNER_SECURITY_INFORMATION |
                                        GROUP_SECURITY_INFORMATION |
                                        DACL_SECURITY_INFORMATION,
                                    &owner, &group, &dacl, NULL, &sd);

    if (e != ERROR_SUCCESS)
        t_fail(__FILE__, __LINE__, "GetNamedSecurityInfo %s: %lu", path, e);
    CHECK(owner != NULL && dacl != NULL);
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACCESS_ALLOWED_ACE *a;
        PSID sid;
        CHECK(GetAce(dacl, i, (void **)&a));
        if (a->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
            (a->Header.AceFlags & INHERIT_ONLY_ACE))
            continue;
        sid = &a->SidStart;
        if (EqualSid(sid, owner))
            u |= rwx_of(a->Mask);
        if (EqualSid(sid, world))
            o |= rwx_of(a->Mask);
        if (group != NULL && EqualSid(sid, group)) {
            g |= rwx_of(a->Mask);
            named_group = 1;
        }
    }
    LocalFree(sd);
    return u << 6 | (named_group ? g : o) << 3 | o;
}

/* Gives path a protected DACL granting its owner `owner_rights` and, when
 * not 0, everyone `world_rights`. */
static void set_owner_dacl(const char *path, DWORD owner_rights,
                           DWORD world_rights)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL;
    union {
        ACL acl;
        unsigned char buf[512];
    } a;
    DWORD e =
        GetNamedSecurityInfoA(path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                              &owner, NULL, NULL, NULL, &sd);

    if (e != ERROR_SUCCESS)
        t_fail(__FILE__, __LINE__, "GetNamedSecurityInfo %s: %lu", path, e);
    CHECK(InitializeAcl(&a.acl, sizeof a, ACL_REVISION));
    CHECK(AddAccessAllowedAce(&a.acl, ACL_REVISION, owner_rights, owner));
    if (world_rights != 0)
        CHECK(AddAccessAllowedAce(&a.acl, ACL_REVISION, world_rights,
                                  world_sid()));
    e = SetNamedSecurityInfoA((char *)path, SE_FILE_OBJECT,
                              DACL_SECURITY_INFORMATION |
                                  PROTECTED_DACL_SECURITY_INFORMATION,
                              NULL, NULL, &a.acl, NULL);
    LocalFree(sd);
    if (e != ERROR_SUCCESS)
        t_fail(__FILE__, __LINE__, "SetNamedSecurityInfo %s: %lu", path, e);
}

/* The tests' chmod: gives the file a protected DACL for `mode` (group bits
 * equal to the others': a mode Windows can express without a group entry).
 * The owner keeps the right to change it again. */
static void set_file_mode(const char *path, unsigned mode)
{
    static const DWORD rights[3] = {FILE_GENERIC_EXECUTE, FILE_GENERIC_WRITE,
                                    FILE_GENERIC_READ};
    unsigned u = mode >> 6 & 7, o = mode & 7;
    DWORD ur = READ_CONTROL | WRITE_DAC | DELETE, orr = 0;

    CHECK((mode >> 3 & 7) == o);
    for (int i = 0; i < 3; i++) {
        if (u >> i & 1)
            ur |= rights[i];
        if (o >> i & 1)
            orr |= rights[i];
    }
    set_owner_dacl(path, ur, orr);
}

/* Is this wine (whose limitations some tests name)? */
static int under_wine(void)
{
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    return nt != NULL && GetProcAddress(nt, "wine_get_version") != NULL;
}

/* SKIPs where a file's DACL is not kept as written. */
static void require_file_dacls(void)
{
    const char *p = t_path("dacl-probe");

    t_make_file(p, 1, 0);
    set_file_mode(p, 0600);
    if (file_perm(p) == 0600)
        return;
    if (under_wine())
        SKIP("wine: a file's DACL is not stored but made up from its Unix "
             "mode bits (the owner gets all rights or read and execute, "
             "Everyone read and execute or nothing): a DACL set is not "
             "the DACL read back (0600 reads as 0%o)",
             file_perm(p));
    t_fail(__FILE__, __LINE__, "a DACL for 0600 reads back as 0%o",
           file_perm(p));
}

static int is_dir(const char *path)
{
    DWORD a = GetFileAttributesA(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

static void make_dir(const char *path)
{
    CHECK(CreateDirectoryA(path, NULL));
}

static void remove_file(const char *path)
{
    CHECK(DeleteFileA(path));
}

/* The working directory to go back to before the test's directory is
 * removed at exit (Windows cannot remove a process's current directory). */
static char old_cwd[MAX_PATH + 1];

static void leave_test_dir(void)
{
    SetCurrentDirectoryA(old_cwd);
}

static void enter_test_dir(void)
{
    const char *d = t_dir(); /* its removal is registered first: runs last */

    if (old_cwd[0] == '\0') {
        DWORD n = GetCurrentDirectoryA(sizeof old_cwd, old_cwd);
        CHECK(n > 0 && n < sizeof old_cwd);
        atexit(leave_test_dir);
    }
    CHECK(SetCurrentDirectoryA(d));
}

/* SKIPs unless the file system of the test directory can reserve storage
 * (what mmf_create_from_file does with FileAllocationInfo). */
static void require_reserve(void)
{
    const char *p = t_path("reserve-probe");
    HANDLE h = CreateFileA(p, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                           CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    FILE_ALLOCATION_INFO al;
    DWORD e = 0;

    CHECK(h != INVALID_HANDLE_VALUE);
    al.AllocationSize.QuadPart = 65536;
    if (!SetFileInformationByHandle(h, FileAllocationInfo, &al, sizeof al))
        e = GetLastError();
    CloseHandle(h);
    CHECK(DeleteFileA(p));
    if (e != 0 && under_wine())
        SKIP("wine: SetFileInformationByHandle(FileAllocationInfo) is not "
             "implemented (error %lu), so no storage can be reserved",
             e);
    if (e != 0)
        SKIP("the test directory's file system cannot reserve storage "
             "(FileAllocationInfo: error %lu)",
             e);
}

static mmf_handle h_open(const char *path, int how)
{
    static const DWORD rights[4] = {0, GENERIC_READ, GENERIC_WRITE,
                                    GENERIC_READ | GENERIC_WRITE};
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, how & H_INHERIT ? TRUE : FALSE};
    HANDLE h = CreateFileA(
        path, rights[how & H_RDWR],
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
        OPEN_EXISTING,
        how & H_DIR ? FILE_FLAG_BACKUP_SEMANTICS : FILE_ATTRIBUTE_NORMAL, NULL);

    if (h == INVALID_HANDLE_VALUE)
        t_fail(__FILE__, __LINE__, "CreateFile %s: %lu", path, GetLastError());
    return (mmf_handle)h;
}

static int64_t h_seek(mmf_handle h, int64_t pos)
{
    LARGE_INTEGER to, now;

    to.QuadPart = pos;
    if (!SetFilePointerEx((HANDLE)h, to, &now, FILE_BEGIN))
        return -1;
    return (int64_t)now.QuadPart;
}

static int64_t h_pos(mmf_handle h)
{
    LARGE_INTEGER zero, now;

    zero.QuadPart = 0;
    if (!SetFilePointerEx((HANDLE)h, zero, &now, FILE_CURRENT))
        return -1;
    return (int64_t)now.QuadPart;
}

static int h_is_open(mmf_handle h)
{
    DWORD flags;
    return GetHandleInformation((HANDLE)h, &flags) != 0;
}

static int h_cloexec(mmf_handle h)
{
    DWORD flags;
    CHECK(GetHandleInformation((HANDLE)h, &flags));
    return (flags & HANDLE_FLAG_INHERIT) == 0;
}

static int h_read1(mmf_handle h, unsigned char *b)
{
    DWORD n = 0;
    return ReadFile((HANDLE)h, b, 1, &n, NULL) && n == 1;
}

/* The file's identity (its index), 0 if h is not an open file. */
static uint64_t h_file_id(mmf_handle h)
{
    BY_HANDLE_FILE_INFORMATION bi;

    if (!GetFileInformationByHandle((HANDLE)h, &bi))
        return 0;
    return (uint64_t)bi.nFileIndexHigh << 32 | bi.nFileIndexLow;
}

static int h_same_file(mmf_handle a, mmf_handle b)
{
    BY_HANDLE_FILE_INFORMATION x, y;

    CHECK(GetFileInformationByHandle((HANDLE)a, &x) &&
          GetFileInformationByHandle((HANDLE)b, &y));
    return x.dwVolumeSerialNumber == y.dwVolumeSerialNumber &&
           x.nFileIndexHigh == y.nFileIndexHigh &&
           x.nFileIndexLow == y.nFileIndexLow;
}

#endif /* _WIN32 */

/* ---- helpers ------------------------------------------------------------ */

/* A failing call: exact code, *out reset to NULL, no descriptor leaked. */
#define CHECK_FAILS(f, call, want)                                             \
    do {                                                                       \
        int fds_ = t_fd_count();                                               \
        (f) = JUNK;                                                            \
        CHECK_RC(call, want);                                                  \
        CHECK((f) == NULL);                                                    \
        CHECK_EQ(t_fd_count(), fds_);                                          \
    } while (0)

/* A file of `size` pattern bytes with an old mtime. */
static const char *make_file_at(const char *name, uint64_t size)
{
    const char *p = t_path(name);
    t_make_file(p, size, -1);
    set_old_mtime(p);
    return p;
}

/* What a path looks like; compared before and after a call. */
struct snap {
    int exists;
    struct pstat st;
    unsigned char *bytes; /* regular files up to 1 MiB */
};

static void snap_take(const char *path, struct snap *s)
{
    memset(s, 0, sizeof *s);
    if (path == NULL || path[0] == '\0' || !path_stat(path, &s->st))
        return;
    s->exists = 1;
    if (s->st.regular && s->st.size > 0 && s->st.size <= (int64_t)MIB) {
        s->bytes = malloc((size_t)s->st.size);
        CHECK(s->bytes != NULL);
        t_pread(path, 0, s->bytes, (size_t)s->st.size);
    }
}

/* Fails unless `path` is exactly as `s` recorded it (and frees s). */
static void snap_check(const char *what, const char *path, struct snap *s)
{
    struct snap now;

    snap_take(path, &now);
    if (now.exists != s->exists)
        t_fail(__FILE__, __LINE__, "%s: %s %s", what, path ? path : "(null)",
               s->exists ? "was removed" : "was created");
    if (s->exists) {
        if (now.st.mode != s->st.mode)
            t_fail(__FILE__, __LINE__, "%s: %s mode changed %o -> %o", what,
                   path, s->st.mode, now.st.mode);
        if (now.st.size != s->st.size)
            t_fail(__FILE__, __LINE__,
                   "%s: %s size changed %" PRId64 " -> %" PRId64, what, path,
                   s->st.size, now.st.size);
        if (now.st.mtime_s != s->st.mtime_s ||
            now.st.mtime_ns != s->st.mtime_ns)
            t_fail(__FILE__, __LINE__, "%s: %s mtime changed", what, path);
        if (s->bytes && (now.bytes == NULL ||
                         memcmp(now.bytes, s->bytes, (size_t)s->st.size) != 0))
            t_fail(__FILE__, __LINE__, "%s: %s bytes changed", what, path);
    }
    free(s->bytes);
    free(now.bytes);
    s->bytes = NULL;
}

/* Makes mmf_last_os_error() non-zero, so that a following call that must
 * report 0 is seen to reset it. */
static void provoke_os_error(void)
{
    static const char *missing;
    mmf_file *f = NULL;

    if (missing == NULL)
        missing = t_path("never-created-errno-probe");
    CHECK_RC(mmf_create_from_file(missing, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_ENOENT);
    CHECK(f == NULL);
    CHECK(mmf_last_os_error() != 0);
}

/* Checks bytes [off, off+n) of the file: pattern -1 bytes if `pattern`,
 * else zeros. */
static void check_file_bytes(const char *path, uint64_t off, size_t n,
                             int pattern)
{
    unsigned char *buf = malloc(n ? n : 1);

    CHECK(buf != NULL);
    t_pread(path, off, buf, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char want = pattern ? t_pattern(-1, off + i) : 0;
        if (buf[i] != want)
            t_fail(__FILE__, __LINE__, "%s: byte %" PRIu64 " is %#x, want %#x",
                   path, off + i, buf[i], want);
    }
    free(buf);
}

/* Checks bytes [off, off+n) of the map through mmf_read, as above. */
static void check_map_bytes(mmf_file *f, uint64_t off, size_t n, int pattern)
{
    unsigned char *buf = malloc(n ? n : 1);

    CHECK(buf != NULL);
    CHECK_OK(mmf_read(f, off, buf, n));
    for (size_t i = 0; i < n; i++) {
        unsigned char want = pattern ? t_pattern(-1, off + i) : 0;
        if (buf[i] != want)
            t_fail(__FILE__, __LINE__, "map byte %" PRIu64 " is %#x, want %#x",
                   off + i, buf[i], want);
    }
    free(buf);
}

/* ---- argument tables ---------------------------------------------------- */

struct fcase {
    int mode;
    const char *name;
    uint64_t cap;
    int access;
    unsigned flags;
    int want;
};

/* One argument error of mmf_create_from_file at `path`: the exact code,
 * *out NULL, mmf_last_os_error() 0, no descriptor leaked and nothing
 * changed on the file system. */
static void file_arg_error(const char *path, const struct fcase *c)
{
    char what[256];
    struct snap before;
    mmf_file *f = JUNK;
    int fds, entries, rc;

    snprintf(what, sizeof what,
             "path %s mode %d name %s cap %" PRIu64 " access %d flags %#x",
             path ? (path[0] ? path : "\"\"") : "NULL", c->mode,
             c->name ? "(set)" : "NULL", c->cap, c->access, c->flags);
    snap_take(path, &before);
    entries = dir_entries();
    provoke_os_error();
    fds = t_fd_count();
    rc = mmf_create_from_file(path, c->mode, c->name, c->cap, c->access,
                              c->flags, &f);
    if (rc != c->want)
        t_fail(__FILE__, __LINE__, "%s: returned %s, want %s", what,
               mmf_errname(rc), mmf_errname(c->want));
    if (f != NULL)
        t_fail(__FILE__, __LINE__, "%s: *out not set to NULL", what);
    if (mmf_last_os_error() != 0)
        t_fail(__FILE__, __LINE__, "%s: mmf_last_os_error() = %d, want 0", what,
               mmf_last_os_error());
    if (t_fd_count() != fds)
        t_fail(__FILE__, __LINE__, "%s: descriptor leaked", what);
    if (dir_entries() != entries)
        t_fail(__FILE__, __LINE__, "%s: directory contents changed", what);
    snap_check(what, path, &before);
}

/* Runs a case against a missing path and against an existing file (which
 * must stay exactly as it was, even for MMF_MODE_CREATE). */
static void file_arg_error_both(const struct fcase *c)
{
    static const char *missing, *existing;

    if (missing == NULL) {
        missing = t_path("missing");
        existing = make_file_at("existing", EXISTING_SIZE);
        enter_test_dir();
    }
    CHECK(!t_exists(missing));
    file_arg_error(missing, c);
    file_arg_error(existing, c);
}

struct hcase {
    const char *name;
    uint64_t cap;
    int access;
    unsigned flags;
    int want;
};

/* The descriptor handle_arg_error runs against, kept for the whole test. */
static mmf_handle handle_args_fd = MMF_INVALID_HANDLE;

/* Closes it at exit, before the test's directory is removed (registered
 * later, so run earlier): Windows removes an open file only once its last
 * handle closes, and a directory only when it is empty. */
static void close_handle_args_fd(void)
{
    t_close_handle(handle_args_fd);
}

/* One argument error of mmf_create_from_handle on a read-write descriptor
 * of an existing file positioned at 123. */
static void handle_arg_error(const struct hcase *c)
{
    static const char *path;
    mmf_handle fd;
    char what[200];
    struct snap before;
    mmf_file *f = JUNK;
    int fds, rc;

    if (path == NULL) {
        path = make_file_at("handle-args", EXISTING_SIZE);
        handle_args_fd = h_open(path, H_RDWR);
        atexit(close_handle_args_fd);
    }
    fd = handle_args_fd;
    CHECK(h_seek(fd, 123) == 123);
    snprintf(what, sizeof what,
             "handle: name %s cap %" PRIu64 " access %d flags %#x",
             c->name ? "(set)" : "NULL", c->cap, c->access, c->flags);
    snap_take(path, &before);
    provoke_os_error();
    fds = t_fd_count();
    rc = mmf_create_from_handle(fd, c->name, c->cap, c->access, c->flags, &f);
    if (rc != c->want)
        t_fail(__FILE__, __LINE__, "%s: returned %s, want %s", what,
               mmf_errname(rc), mmf_errname(c->want));
    if (f != NULL)
        t_fail(__FILE__, __LINE__, "%s: *out not set to NULL", what);
    if (mmf_last_os_error() != 0)
        t_fail(__FILE__, __LINE__, "%s: mmf_last_os_error() = %d, want 0", what,
               mmf_last_os_error());
    if (t_fd_count() != fds)
        t_fail(__FILE__, __LINE__, "%s: descriptor leaked", what);
    if (!h_is_open(fd))
        t_fail(__FILE__, __LINE__, "%s: caller's descriptor closed", what);
    if (h_pos(fd) != 123)
        t_fail(__FILE__, __LINE__, "%s: caller's position moved", what);
    snap_check(what, path, &before);
}

static const char *const bad_names[] = {
    "",           "a/b",           "/leading",
    "trailing/",  "back\\slash",   "tab\there",
    "new\nline",  "\x01",          "del\x7f",
    "high\x80",   "utf8-\xc3\xa9", ".",
    "..",         "Local\\",       "Global\\",
    "Local\\.",   "Global\\..",    "Local\\Global\\x",
    "Local\\a/b", "Local\\\\x",
};

/* 251 bytes: one more than the limit. */
static const char *name_251(void)
{
    static char buf[252];
    memset(buf, 'n', 251);
    buf[251] = '\0';
    return buf;
}

TEST(persisted_args_path_null)
{
    enter_test_dir();
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            struct fcase c = {all_modes[m],    NULL, 4096,
                              all_accesses[a], 0,    MMF_EINVAL};
            file_arg_error(NULL, &c);
            c.cap = 0;
            file_arg_error(NULL, &c);
        }
}

TEST(persisted_args_path_empty)
{
    enter_test_dir();
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            struct fcase c = {all_modes[m],    NULL, 4096,
                              all_accesses[a], 0,    MMF_EINVAL};
            file_arg_error("", &c);
            c.cap = 0;
            file_arg_error("", &c);
        }
}

TEST(persisted_args_mode_out_of_range)
{
    static const int modes[] = {0, 5, 6, 7, -1, 100, INT_MIN, INT_MAX};
    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            struct fcase c = {modes[m],        NULL, 4096,
                              all_accesses[a], 0,    MMF_EINVAL};
            file_arg_error_both(&c);
            c.cap = 0;
            file_arg_error_both(&c);
        }
}

TEST(persisted_args_access_out_of_range)
{
    static const int accesses[] = {-1, 6, 7, 100, INT_MIN, INT_MAX};
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t a = 0; a < NELEM(accesses); a++) {
            struct fcase c = {all_modes[m], NULL, 4096,
                              accesses[a],  0,    MMF_EINVAL};
            file_arg_error_both(&c);
            c.cap = EXISTING_SIZE;
            file_arg_error_both(&c);
        }
}

TEST(persisted_args_access_write)
{
    static const uint64_t caps[] = {0, 4096, EXISTING_SIZE, 65536};
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t k = 0; k < NELEM(caps); k++) {
            struct fcase c = {all_modes[m],     NULL, caps[k],
                              MMF_ACCESS_WRITE, 0,    MMF_EINVAL};
            file_arg_error_both(&c);
            c.flags = MMF_OPT_DELAY_ALLOCATE;
            file_arg_error_both(&c);
        }
}

TEST(persisted_args_unknown_flags)
{
    static const unsigned flags[] = {
        1u << 3,
        1u << 4,
        1u << 8,
        1u << 16,
        1u << 31,
        ~0u,
        (1u << 3) | MMF_OPT_DELAY_ALLOCATE,
        (1u << 5) | MMF_OPT_INHERITABLE,
    };
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t k = 0; k < NELEM(flags); k++) {
            struct fcase c = {all_modes[m],          NULL,     4096,
                              MMF_ACCESS_READ_WRITE, flags[k], MMF_EINVAL};
            file_arg_error_both(&c);
            c.access = MMF_ACCESS_READ;
            c.cap = 0;
            if (all_modes[m] == MMF_MODE_OPEN)
                file_arg_error_both(&c);
        }
}

TEST(persisted_args_keep_name)
{
    static const unsigned flags[] = {
        MMF_OPT_KEEP_NAME,
        MMF_OPT_KEEP_NAME | MMF_OPT_DELAY_ALLOCATE,
        MMF_OPT_KEEP_NAME | MMF_OPT_INHERITABLE,
        MMF_OPT_KEEP_NAME | MMF_OPT_DELAY_ALLOCATE | MMF_OPT_INHERITABLE,
    };
    static const char *const names[] = {NULL, "persisted-keep-name"};
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t k = 0; k < NELEM(flags); k++)
            for (size_t n = 0; n < NELEM(names); n++) {
                struct fcase c = {all_modes[m],          names[n], 4096,
                                  MMF_ACCESS_READ_WRITE, flags[k], MMF_EINVAL};
                file_arg_error_both(&c);
            }
}

TEST(persisted_args_empty_name)
{
    for (size_t m = 0; m < NELEM(all_modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            struct fcase c = {all_modes[m],    "", 4096,
                              all_accesses[a], 0,  MMF_EINVAL};
            file_arg_error_both(&c);
            c.cap = 0;
            if (all_modes[m] == MMF_MODE_OPEN)
                file_arg_error_both(&c);
        }
}

TEST(persisted_args_bad_names)
{
    for (size_t m = 0; m < NELEM(all_modes); m++) {
        for (size_t n = 0; n < NELEM(bad_names); n++) {
            struct fcase c = {
                all_modes[m], bad_names[n], 4096, MMF_ACCESS_READ_WRITE, 0,
                MMF_EINVAL};
            file_arg_error_both(&c);
        }
        {
            struct fcase c = {all_modes[m],          name_251(), 4096,
                              MMF_ACCESS_READ_WRITE, 0,          MMF_EINVAL};
            file_arg_error_both(&c);
        }
    }
    for (size_t n = 0; n < NELEM(bad_names); n++) {
        struct fcase c = {MMF_MODE_OPEN, bad_names[n], 0, MMF_ACCESS_READ, 0,
                          MMF_EINVAL};
        file_arg_error_both(&c);
    }
}

TEST(persisted_args_capacity_too_large)
{
    static const uint64_t caps[] = {CAP_LIMIT, CAP_LIMIT + 1, CAP_LIMIT + 4096,
                                    UINT64_MAX};
    for (size_t k = 0; k < NELEM(caps); k++) {
        for (size_t m = 0; m < NELEM(all_modes); m++)
            for (size_t a = 0; a < NELEM(writable_accesses); a++) {
                struct fcase c = {all_modes[m],         NULL, caps[k],
                                  writable_accesses[a], 0,    MMF_ERANGE};
                file_arg_error_both(&c);
                c.flags = MMF_OPT_DELAY_ALLOCATE;
                file_arg_error_both(&c);
            }
        for (size_t a = 0; a < NELEM(readonly_accesses); a++) {
            struct fcase c = {MMF_MODE_OPEN,        NULL, caps[k],
                              readonly_accesses[a], 0,    MMF_ERANGE};
            file_arg_error_both(&c);
            c.mode = MMF_MODE_OPEN_OR_CREATE;
            file_arg_error_both(&c);
        }
    }
}

TEST(persisted_args_readonly_access_with_create_modes)
{
    static const uint64_t caps[] = {0, 1, 4096, EXISTING_SIZE, GIB};
    static const int modes[] = {MMF_MODE_CREATE_NEW, MMF_MODE_CREATE};
    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(readonly_accesses); a++)
            for (size_t k = 0; k < NELEM(caps); k++) {
                struct fcase c = {modes[m], NULL,
                                  caps[k],  readonly_accesses[a],
                                  0,        MMF_EINVAL};
                file_arg_error_both(&c);
                c.flags = MMF_OPT_DELAY_ALLOCATE | MMF_OPT_INHERITABLE;
                file_arg_error_both(&c);
            }
}

TEST(persisted_args_zero_capacity_with_create_modes)
{
    static const unsigned flags[] = {0, MMF_OPT_DELAY_ALLOCATE,
                                     MMF_OPT_INHERITABLE};
    static const int modes[] = {MMF_MODE_CREATE_NEW, MMF_MODE_CREATE};
    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(writable_accesses); a++)
            for (size_t k = 0; k < NELEM(flags); k++) {
                struct fcase c = {modes[m], NULL,      0, writable_accesses[a],
                                  flags[k], MMF_EINVAL};
                file_arg_error_both(&c);
            }
}

TEST(persisted_args_out_null)
{
    const char *missing = t_path("out-null-missing");
    const char *existing = make_file_at("out-null-existing", EXISTING_SIZE);
    struct snap s;
    int fds, entries;

    for (size_t m = 0; m < NELEM(all_modes); m++) {
        entries = dir_entries();
        fds = t_fd_count();
        provoke_os_error();
        CHECK_RC(mmf_create_from_file(missing, all_modes[m], NULL, 4096,
                                      MMF_ACCESS_READ_WRITE, 0, NULL),
                 MMF_EINVAL);
        CHECK_EQ(mmf_last_os_error(), 0);
        CHECK_EQ(t_fd_count(), fds);
        CHECK(!t_exists(missing));
        CHECK_EQ(dir_entries(), entries);

        snap_take(existing, &s);
        CHECK_RC(mmf_create_from_file(existing, all_modes[m], NULL, 16384,
                                      MMF_ACCESS_READ_WRITE, 0, NULL),
                 MMF_EINVAL);
        CHECK_EQ(mmf_last_os_error(), 0);
        CHECK_EQ(t_fd_count(), fds);
        snap_check("out NULL", existing, &s);
    }
    snap_take(existing, &s);
    CHECK_RC(mmf_create_from_file(existing, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, NULL),
             MMF_EINVAL);
    CHECK_EQ(mmf_last_os_error(), 0);
    snap_check("out NULL, READ", existing, &s);
}

/* ---- handle argument tables --------------------------------------------- */

TEST(persisted_handle_args_access)
{
    static const int accesses[] = {-1,      6,       7,
                                   INT_MIN, INT_MAX, MMF_ACCESS_WRITE};
    for (size_t a = 0; a < NELEM(accesses); a++) {
        struct hcase c = {NULL, 0, accesses[a], 0, MMF_EINVAL};
        handle_arg_error(&c);
        c.cap = EXISTING_SIZE;
        handle_arg_error(&c);
        c.cap = 2 * EXISTING_SIZE;
        handle_arg_error(&c);
    }
}

TEST(persisted_handle_args_flags)
{
    static const unsigned flags[] = {
        1u << 3,
        1u << 31,
        ~0u,
        MMF_OPT_KEEP_NAME,
        MMF_OPT_KEEP_NAME | MMF_OPT_DELAY_ALLOCATE,
        MMF_OPT_KEEP_NAME | MMF_OPT_INHERITABLE,
    };
    for (size_t k = 0; k < NELEM(flags); k++) {
        struct hcase c = {NULL, 0, MMF_ACCESS_READ_WRITE, flags[k], MMF_EINVAL};
        handle_arg_error(&c);
        c.name = "persisted-handle-keep";
        handle_arg_error(&c);
        c.access = MMF_ACCESS_READ;
        handle_arg_error(&c);
    }
}

TEST(persisted_handle_args_names)
{
    for (size_t n = 0; n < NELEM(bad_names); n++) {
        struct hcase c = {bad_names[n], 0, MMF_ACCESS_READ_WRITE, 0,
                          MMF_EINVAL};
        handle_arg_error(&c);
        c.access = MMF_ACCESS_READ;
        handle_arg_error(&c);
    }
    {
        struct hcase c = {name_251(), 0, MMF_ACCESS_READ_WRITE, 0, MMF_EINVAL};
        handle_arg_error(&c);
    }
}

TEST(persisted_handle_args_capacity_too_large)
{
    static const uint64_t caps[] = {CAP_LIMIT, CAP_LIMIT + 1, UINT64_MAX};
    for (size_t k = 0; k < NELEM(caps); k++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            struct hcase c = {NULL, caps[k], all_accesses[a], 0, MMF_ERANGE};
            handle_arg_error(&c);
            c.flags = MMF_OPT_DELAY_ALLOCATE;
            handle_arg_error(&c);
        }
}

TEST(persisted_handle_args_out_null)
{
    const char *path = make_file_at("handle-out-null", EXISTING_SIZE);
    mmf_handle fd = h_open(path, H_RDWR);
    struct snap s;
    int fds;

    CHECK(h_seek(fd, 123) == 123);
    snap_take(path, &s);
    fds = t_fd_count();
    provoke_os_error();
    CHECK_RC(mmf_create_from_handle(fd, NULL, 2 * EXISTING_SIZE,
                                    MMF_ACCESS_READ_WRITE, 0, NULL),
             MMF_EINVAL);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_EQ(t_fd_count(), fds);
    CHECK_EQ(h_pos(fd), 123);
    snap_check("handle out NULL", path, &s);
    t_close_handle(fd);
}

/* ---- modes -------------------------------------------------------------- */

TEST(persisted_create_new_on_existing_file)
{
    const char *path = make_file_at("cn-existing", 10000);
    mmf_file *f;
    struct snap s;

    for (size_t a = 0; a < NELEM(writable_accesses); a++) {
        static const uint64_t caps[] = {4096, 10000, 20000};
        for (size_t k = 0; k < NELEM(caps); k++) {
            snap_take(path, &s);
            CHECK_FAILS(f,
                        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL,
                                             caps[k], writable_accesses[a], 0,
                                             &f),
                        MMF_EEXIST);
            CHECK_EQ(mmf_last_os_error(), OS_EEXIST);
            snap_check("CREATE_NEW on existing", path, &s);
        }
    }
}

TEST(persisted_create_new_missing_file)
{
    const char *path = t_path("cn-new");
    mmf_file *f;
    int fds = t_fd_count();

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 10000,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK(f != NULL);
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 10000);
    CHECK_EQ(mmf_access_of(f), MMF_ACCESS_READ_WRITE);
    CHECK(mmf_name(f) == NULL);
    CHECK_EQ(t_file_size(path), 10000);
    check_file_bytes(path, 0, 10000, 0);
    check_map_bytes(f, 0, 10000, 0);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
    CHECK_EQ(t_file_size(path), 10000);
}

TEST(persisted_open_missing_file)
{
    const char *path = t_path("open-missing");
    static const uint64_t caps[] = {0, 4096};
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++)
        for (size_t k = 0; k < NELEM(caps); k++) {
            if (caps[k] != 0 && all_accesses[a] != MMF_ACCESS_READ_WRITE &&
                all_accesses[a] != MMF_ACCESS_READ)
                continue;
            CHECK_FAILS(f,
                        mmf_create_from_file(path, MMF_MODE_OPEN, NULL, caps[k],
                                             all_accesses[a], 0, &f),
                        MMF_ENOENT);
            CHECK_EQ(mmf_last_os_error(), OS_ENOENT);
            CHECK(!t_exists(path));
        }
}

TEST(persisted_open_existing_file)
{
    const char *path = make_file_at("open-existing", 10000);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        struct snap s;
        int fds = t_fd_count();

        snap_take(path, &s);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      all_accesses[a], 0, &f));
        CHECK_EQ(mmf_created(f), 0);
        CHECK_EQ(mmf_capacity(f), 10000);
        CHECK_EQ(mmf_access_of(f), all_accesses[a]);
        check_map_bytes(f, 0, 10000, 1);
        CHECK_OK(mmf_close(f));
        CHECK_EQ(t_fd_count(), fds);
        snap_check("OPEN", path, &s);
    }
}

TEST(persisted_open_or_create_readonly_missing)
{
    const char *path = t_path("ooc-ro-missing");
    static const uint64_t caps[] = {0, 1, 4096};
    mmf_file *f;

    for (size_t a = 0; a < NELEM(readonly_accesses); a++)
        for (size_t k = 0; k < NELEM(caps); k++) {
            int entries = dir_entries();
            CHECK_FAILS(f,
                        mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE,
                                             NULL, caps[k],
                                             readonly_accesses[a], 0, &f),
                        MMF_EINVAL);
            CHECK(!t_exists(path));
            CHECK_EQ(dir_entries(), entries);
        }
}

TEST(persisted_open_or_create_missing_creates)
{
    const char *path = t_path("ooc-missing");
    mmf_file *f;

    for (size_t a = 0; a < NELEM(writable_accesses); a++) {
        int fds = t_fd_count();
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE, NULL, 5000,
                                      writable_accesses[a], 0, &f));
        CHECK_EQ(mmf_created(f), 1);
        CHECK_EQ(mmf_capacity(f), 5000);
        CHECK_EQ(t_file_size(path), 5000);
        check_file_bytes(path, 0, 5000, 0);
        CHECK_OK(mmf_close(f));
        CHECK_EQ(t_fd_count(), fds);
        remove_file(path);
    }
}

TEST(persisted_open_or_create_existing_opens)
{
    const char *path = make_file_at("ooc-existing", 10000);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        struct snap s;
        snap_take(path, &s);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE, NULL, 0,
                                      all_accesses[a], 0, &f));
        CHECK_EQ(mmf_created(f), 0);
        CHECK_EQ(mmf_capacity(f), 10000);
        check_map_bytes(f, 0, 10000, 1);
        CHECK_OK(mmf_close(f));
        snap_check("OPEN_OR_CREATE existing", path, &s);
    }
    /* An explicit capacity equal to the size is the same. */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE, NULL, 10000,
                                  MMF_ACCESS_READ, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_create_truncates_existing_smaller)
{
    const char *path = make_file_at("create-trunc-small", 10000);
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 4000,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 4000);
    CHECK_EQ(t_file_size(path), 4000);
    check_file_bytes(path, 0, 4000, 0);
    check_map_bytes(f, 0, 4000, 0);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), 4000);
}

TEST(persisted_create_truncates_existing_larger)
{
    const char *path = make_file_at("create-trunc-large", 10000);
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 30000,
                                  MMF_ACCESS_READ_WRITE_EXECUTE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 30000);
    CHECK_EQ(t_file_size(path), 30000);
    check_file_bytes(path, 0, 30000, 0);
    check_map_bytes(f, 0, 30000, 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_create_truncates_existing_same_size)
{
    const char *path = make_file_at("create-trunc-same", 10000);
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 10000,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(t_file_size(path), 10000);
    check_file_bytes(path, 0, 10000, 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_create_missing_creates)
{
    const char *path = t_path("create-missing");
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 7777,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 7777);
    CHECK_EQ(t_file_size(path), 7777);
    check_file_bytes(path, 0, 7777, 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_missing_parent_directory)
{
    const char *path = t_path("no-such-dir" SEP "file");
    mmf_file *f;

    for (size_t m = 0; m < NELEM(all_modes); m++) {
        CHECK_FAILS(f,
                    mmf_create_from_file(path, all_modes[m], NULL, 4096,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_ENOENT);
        CHECK(mmf_last_os_error() != 0);
    }
    CHECK(!t_exists(t_path("no-such-dir")));
}

#ifdef _WIN32
/* Windows gives the file system's own code (ERROR_INVALID_NAME; wine:
 * ERROR_FILE_NOT_FOUND), which libmmf reports as a name too long. */
#define CHECK_NAME_TOO_LONG_ERROR() CHECK(mmf_last_os_error() != 0)
/* Longer than the 32767 UTF-16 units of any Windows path. */
#define LONG_PATH_EXTRA 40000
#else
#define CHECK_NAME_TOO_LONG_ERROR() CHECK_EQ(mmf_last_os_error(), ENAMETOOLONG)
#define LONG_PATH_EXTRA (2 * PATH_MAX)
#endif

TEST(persisted_path_too_long)
{
    static const int open_modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    char component[400], *longpath;
    size_t n, len;
    mmf_file *f;

    memset(component, 'x', sizeof component - 1);
    component[sizeof component - 1] = '\0';
    CHECK_FAILS(f,
                mmf_create_from_file(t_path(component), MMF_MODE_OPEN_OR_CREATE,
                                     NULL, 4096, MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ENAMETOOLONG);
    CHECK_NAME_TOO_LONG_ERROR();
    /* The same where nothing would be created: the name, not a missing
     * file, is what fails. */
    for (size_t m = 0; m < NELEM(open_modes); m++) {
        CHECK_FAILS(f,
                    mmf_create_from_file(t_path(component), open_modes[m], NULL,
                                         0, MMF_ACCESS_READ, 0, &f),
                    MMF_ENAMETOOLONG);
        CHECK_NAME_TOO_LONG_ERROR();
    }

    /* A whole path longer than the system allows (PATH_MAX), made of short
     * components. */
    n = strlen(t_dir()) + LONG_PATH_EXTRA;
    longpath = malloc(n + 1);
    CHECK(longpath != NULL);
    len = strlen(t_dir());
    memcpy(longpath, t_dir(), len + 1);
    for (; len + 3 < n; len += 3)
        memcpy(longpath + len, SEP "ab", 4);
    CHECK_FAILS(f,
                mmf_create_from_file(longpath, MMF_MODE_OPEN_OR_CREATE, NULL,
                                     4096, MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ENAMETOOLONG);
    CHECK_NAME_TOO_LONG_ERROR();
    free(longpath);
    CHECK_EQ(dir_entries(), 0);
}

/* ---- capacity rules ----------------------------------------------------- */

TEST(persisted_capacity_zero_means_file_size)
{
    const char *path = make_file_at("cap-zero", 10001);
    mmf_file *f;
    mmf_view *v;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      all_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), 10001);
        CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &v));
        CHECK_EQ(mmf_view_size(v), 10001);
        for (uint64_t i = 0; i < 10001; i++)
            CHECK_EQ(((unsigned char *)mmf_view_data(v))[i], t_pattern(-1, i));
        CHECK_OK(mmf_view_close(v));
        CHECK_RC(mmf_view_open(f, 10001, 1, MMF_ACCESS_READ, &v), MMF_ERANGE);
        CHECK_OK(mmf_close(f));
    }
    CHECK_EQ(t_file_size(path), 10001);
}

TEST(persisted_capacity_zero_empty_file)
{
    const char *path = make_file_at("cap-zero-empty", 0);
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            struct snap s;
            snap_take(path, &s);
            provoke_os_error();
            CHECK_FAILS(f,
                        mmf_create_from_file(path, modes[m], NULL, 0,
                                             all_accesses[a], 0, &f),
                        MMF_EINVAL);
            CHECK_EQ(mmf_last_os_error(), 0);
            snap_check("empty file, capacity 0", path, &s);
        }
}

TEST(persisted_capacity_smaller_than_file)
{
    const char *path = make_file_at("cap-smaller", 10000);
    static const uint64_t caps[] = {1, 4095, 4096, 8192, 9999};
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++)
            for (size_t k = 0; k < NELEM(caps); k++) {
                struct snap s;
                snap_take(path, &s);
                CHECK_FAILS(f,
                            mmf_create_from_file(path, modes[m], NULL, caps[k],
                                                 all_accesses[a], 0, &f),
                            MMF_ERANGE);
                CHECK_EQ(mmf_last_os_error(), 0);
                snap_check("capacity < file size", path, &s);
            }
}

TEST(persisted_capacity_larger_readonly)
{
    const char *path = make_file_at("cap-larger-ro", 10000);
    static const uint64_t caps[] = {10001, 12288, 65536, GIB, CAP_LIMIT - 1};
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(readonly_accesses); a++)
            for (size_t k = 0; k < NELEM(caps); k++) {
                struct snap s;
                snap_take(path, &s);
                CHECK_FAILS(f,
                            mmf_create_from_file(path, modes[m], NULL, caps[k],
                                                 readonly_accesses[a], 0, &f),
                            MMF_EINVAL);
                CHECK_EQ(mmf_last_os_error(), 0);
                snap_check("read-only capacity > file size", path, &s);
            }
}

TEST(persisted_capacity_equal_to_file)
{
    const char *path = make_file_at("cap-equal", 10000);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        struct snap s;
        snap_take(path, &s);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 10000,
                                      all_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), 10000);
        check_map_bytes(f, 0, 10000, 1);
        CHECK_OK(mmf_close(f));
        snap_check("capacity == file size", path, &s);
    }
}

TEST(persisted_capacity_larger_grows_exactly)
{
    const char *path = make_file_at("cap-grow", 10000);
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 12345,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 12345);
    CHECK_EQ(t_file_size(path), 12345);
    check_file_bytes(path, 0, 10000, 1);
    check_file_bytes(path, 10000, 2345, 0);
    check_map_bytes(f, 0, 10000, 1);
    check_map_bytes(f, 10000, 2345, 0);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), 12345);

    /* READ_WRITE_EXECUTE grows too, through OPEN_OR_CREATE. */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE, NULL,
                                  5 * 4096 + 1, MMF_ACCESS_READ_WRITE_EXECUTE,
                                  MMF_OPT_DELAY_ALLOCATE, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 5 * 4096 + 1);
    CHECK_EQ(t_file_size(path), 5 * 4096 + 1);
    check_file_bytes(path, 0, 10000, 1);
    check_file_bytes(path, 10000, 5 * 4096 + 1 - 10000, 0);
    check_map_bytes(f, 10000, 5 * 4096 + 1 - 10000, 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_grow_reserves_storage)
{
    const char *path = t_path("reserve-new");
    mmf_file *f;
    uint64_t cap = 8 * MIB + 123;

    require_reserve();
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, cap,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(t_file_size(path), cap);
    CHECK((uint64_t)file_alloc(path) >= cap);
    check_file_bytes(path, cap - 4096, 4096, 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_grow_existing_reserves_storage)
{
    const char *path = make_file_at("reserve-existing", 10000);
    mmf_file *f;
    uint64_t cap = 4 * MIB;

    require_reserve();
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, cap,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(t_file_size(path), cap);
    CHECK((uint64_t)file_alloc(path) >= cap);
    check_file_bytes(path, 0, 10000, 1);
    check_file_bytes(path, 10000, 65536, 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_delay_allocate_is_sparse)
{
    const char *path = t_path("sparse");
    mmf_file *f;
    uint64_t cap = 64 * MIB + 1;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, cap,
                                  MMF_ACCESS_READ_WRITE, MMF_OPT_DELAY_ALLOCATE,
                                  &f));
    CHECK_EQ(mmf_capacity(f), cap);
    CHECK_EQ(t_file_size(path), cap);
    CHECK((uint64_t)file_alloc(path) <= MIB);
    check_map_bytes(f, cap - 4097, 4097, 0);
    CHECK_OK(mmf_close(f));
    CHECK((uint64_t)file_alloc(path) <= MIB);
}

TEST(persisted_delay_allocate_existing_is_sparse)
{
    const char *path = make_file_at("sparse-existing", 4096);
    mmf_file *f;
    int64_t before = file_alloc(path);

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 256 * MIB,
                                  MMF_ACCESS_READ_WRITE, MMF_OPT_DELAY_ALLOCATE,
                                  &f));
    CHECK_EQ(t_file_size(path), 256 * MIB);
    CHECK((uint64_t)(file_alloc(path) - before) <= MIB);
    check_file_bytes(path, 0, 4096, 1);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_capacity_refused_by_file_system)
{
    /* Beyond what ext4/xfs/tmpfs allow in one file, below 2^63. */
    static const uint64_t caps[] = {UINT64_C(1) << 62, CAP_LIMIT - 1};
    static const unsigned flags[] = {0, MMF_OPT_DELAY_ALLOCATE};
    const char *missing = t_path("efbig-missing");
    const char *existing = make_file_at("efbig-existing", 10000);
    mmf_file *f;

    for (size_t k = 0; k < NELEM(caps); k++)
        for (size_t g = 0; g < NELEM(flags); g++) {
            int entries = dir_entries();
            int64_t size;
            unsigned char buf[10000];

            CHECK_FAILS(f,
                        mmf_create_from_file(
                            missing, MMF_MODE_OPEN_OR_CREATE, NULL, caps[k],
                            MMF_ACCESS_READ_WRITE, flags[g], &f),
                        MMF_ERANGE);
            CHECK(!t_exists(missing));
            CHECK_EQ(dir_entries(), entries);
            CHECK_FAILS(f,
                        mmf_create_from_file(missing, MMF_MODE_CREATE_NEW, NULL,
                                             caps[k], MMF_ACCESS_READ_WRITE,
                                             flags[g], &f),
                        MMF_ERANGE);
            CHECK(!t_exists(missing));

            CHECK_FAILS(f,
                        mmf_create_from_file(existing, MMF_MODE_OPEN, NULL,
                                             caps[k], MMF_ACCESS_READ_WRITE,
                                             flags[g], &f),
                        MMF_ERANGE);
            size = t_file_size(existing);
            CHECK_EQ(size, 10000);
            t_pread(existing, 0, buf, sizeof buf);
            for (size_t i = 0; i < sizeof buf; i++)
                CHECK_EQ(buf[i], t_pattern(-1, i));
        }
}

TEST(persisted_enospc_removes_created_file)
{
    const char *path = t_path("enospc-new");
    static const int modes[] = {MMF_MODE_CREATE_NEW, MMF_MODE_CREATE,
                                MMF_MODE_OPEN_OR_CREATE};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++) {
        int entries = dir_entries();
        mmf__fault_clear();
        mmf__fault_set(FAULT_RESERVE, OS_ENOSPC, 0, -1);
        CHECK_FAILS(f,
                    mmf_create_from_file(path, modes[m], NULL, 4 * MIB,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_ENOSPC);
        CHECK_EQ(mmf_last_os_error(), OS_ENOSPC);
        CHECK(mmf__fault_calls(FAULT_RESERVE) > 0);
        mmf__fault_clear();
        CHECK(!t_exists(path));
        CHECK_EQ(dir_entries(), entries);
    }
}

TEST(persisted_enospc_leaves_existing_file)
{
    const char *path = make_file_at("enospc-existing", 10000);
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++) {
        int64_t size;
        mmf__fault_clear();
        mmf__fault_set(FAULT_RESERVE, OS_ENOSPC, 0, -1);
        CHECK_FAILS(f,
                    mmf_create_from_file(path, modes[m], NULL, 4 * MIB,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_ENOSPC);
        mmf__fault_clear();
        size = t_file_size(path);
        CHECK_EQ(size, 10000);
        check_file_bytes(path, 0, 10000, 1);
    }
}

TEST(persisted_fallocate_unsupported_falls_back)
{
    const char *path = t_path("no-fallocate");
    mmf_file *f;

    mmf__fault_set(FAULT_RESERVE, OS_RESERVE_UNSUPPORTED, 0, -1);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 123457,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    mmf__fault_clear();
    CHECK_EQ(mmf_capacity(f), 123457);
    CHECK_EQ(t_file_size(path), 123457);
    check_map_bytes(f, 0, 123457, 0);
    CHECK_OK(mmf_close(f));
}

/* ---- a file the call created is removed when it fails ------------------ */

TEST(persisted_created_file_removed_on_zero_capacity)
{
    const char *path = t_path("ooc-zero-cap");
    mmf_file *f;

    for (size_t a = 0; a < NELEM(writable_accesses); a++) {
        int entries = dir_entries();
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE, NULL, 0,
                                         writable_accesses[a], 0, &f),
                    MMF_EINVAL);
        CHECK(!t_exists(path));
        CHECK_EQ(dir_entries(), entries);
    }
}

TEST(persisted_created_file_removed_on_map_failure)
{
    const char *path = t_path("map-fails");
    static const int modes[] = {MMF_MODE_CREATE_NEW, MMF_MODE_CREATE,
                                MMF_MODE_OPEN_OR_CREATE};
    static const struct {
        int err, want;
    } faults[] = {{OS_MAP_UNSUPPORTED, MMF_ENOTSUP},
                  {OS_MAP_DENIED, MMF_EACCES},
                  {OS_ENOMEM, MMF_ENOMEM}};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t k = 0; k < NELEM(faults); k++) {
            int entries = dir_entries();
            mmf__fault_clear();
            mmf__fault_set(FAULT_MAP, faults[k].err, 0, -1);
            CHECK_FAILS(f,
                        mmf_create_from_file(path, modes[m], NULL, 8192,
                                             MMF_ACCESS_READ_WRITE, 0, &f),
                        faults[k].want);
            CHECK_EQ(mmf_last_os_error(), faults[k].err);
            mmf__fault_clear();
            CHECK(!t_exists(path));
            CHECK_EQ(dir_entries(), entries);
        }
}

TEST(persisted_existing_file_kept_on_map_failure)
{
    const char *path = make_file_at("map-fails-existing", 10000);
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++) {
        mmf__fault_clear();
        mmf__fault_set(FAULT_MAP, OS_MAP_UNSUPPORTED, 0, -1);
        CHECK_FAILS(f,
                    mmf_create_from_file(path, modes[m], NULL, 65536,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_ENOTSUP);
        mmf__fault_clear();
        CHECK_EQ(t_file_size(path), 10000);
        check_file_bytes(path, 0, 10000, 1);
    }
}

/* ---- permission denied -------------------------------------------------- */

/* The EACCES checks, run as a user the permission bits apply to. */
static void eacces_checks(const char *ro_file, const char *ro_dir_file)
{
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE,
                                MMF_MODE_CREATE};
    struct snap s;
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(writable_accesses); a++) {
            uint64_t cap = modes[m] == MMF_MODE_CREATE ? 4096 : 0;
            snap_take(ro_file, &s);
            CHECK_FAILS(f,
                        mmf_create_from_file(ro_file, modes[m], NULL, cap,
                                             writable_accesses[a], 0, &f),
                        MMF_EACCES);
            CHECK_EQ(mmf_last_os_error(), OS_EACCES);
            snap_check("read-only file opened for writing", ro_file, &s);
        }
    /* Growing needs write access too. */
    snap_take(ro_file, &s);
    CHECK_FAILS(f,
                mmf_create_from_file(ro_file, MMF_MODE_OPEN, NULL, 65536,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_EACCES);
    snap_check("read-only file grown", ro_file, &s);

    /* The same file opened read-only works: the path is reachable. */
    for (size_t a = 0; a < NELEM(readonly_accesses); a++) {
        CHECK_OK(mmf_create_from_file(ro_file, MMF_MODE_OPEN, NULL, 0,
                                      readonly_accesses[a], 0, &f));
        check_map_bytes(f, 0, 5000, 1);
        CHECK_OK(mmf_close(f));
    }

    /* No file may be created in a directory without write permission
     * (where the system enforces it: see below). */
    if (ro_dir_file == NULL)
        return;
    for (size_t m = 0; m < NELEM(all_modes); m++) {
        if (all_modes[m] == MMF_MODE_OPEN)
            continue;
        CHECK_FAILS(f,
                    mmf_create_from_file(ro_dir_file, all_modes[m], NULL, 4096,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_EACCES);
        CHECK(!t_exists(ro_dir_file));
    }
}

#ifdef _WIN32
/* Gives a directory a DACL that lets its owner list, enter and remove it,
 * but add nothing to it. */
static void deny_adding_files(const char *dir)
{
    set_owner_dacl(
        dir, FILE_GENERIC_READ | FILE_GENERIC_EXECUTE | DELETE | WRITE_DAC, 0);
}

/* Does opening the file for writing fail? */
static int write_denied(const char *file)
{
    HANDLE h = CreateFileA(file, GENERIC_WRITE, FILE_SHARE_READ, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);

    if (h == INVALID_HANDLE_VALUE)
        return 1;
    CloseHandle(h);
    return 0;
}

/* Does creating the file fail? */
static int create_denied(const char *file)
{
    HANDLE h = CreateFileA(file, GENERIC_WRITE, 0, NULL, CREATE_NEW,
                           FILE_ATTRIBUTE_NORMAL, NULL);

    if (h == INVALID_HANDLE_VALUE)
        return 1;
    CloseHandle(h);
    CHECK(DeleteFileA(file));
    return 0;
}
#endif

TEST(persisted_eacces_read_only_file)
{
    const char *ro_file = make_file_at("ro-file", 5000);
    const char *ro_dir = t_path("ro-dir");
    const char *ro_dir_file = t_path("ro-dir" SEP "new");
#ifdef _WIN32
    /* The read-only attribute stops every writer; the directory's DACL
     * denies adding files. */
    int dir_denies;

    CHECK(SetFileAttributesA(ro_file, FILE_ATTRIBUTE_READONLY));
    make_dir(ro_dir);
    deny_adding_files(ro_dir);
    if (!write_denied(ro_file)) {
        if (under_wine())
            SKIP("wine: access checks on files are left to the Unix "
                 "permission bits, which root bypasses: a read-only file "
                 "opened for writing (wine runs as root)");
        SKIP("this process may write a read-only file");
    }
    dir_denies = create_denied(ro_dir_file);
    eacces_checks(ro_file, dir_denies ? ro_dir_file : NULL);
    if (!dir_denies) {
        if (under_wine())
            SKIP("wine: a directory's DACL is not enforced: a file was "
                 "created in a directory whose DACL denies adding files "
                 "(the read-only file's checks passed)");
        SKIP("a directory's DACL does not stop this process from adding "
             "files (the read-only file's checks passed)");
    }
#else
    pid_t pid;
    int st;

    CHECK(chmod(ro_file, 0444) == 0);
    CHECK(mkdir(ro_dir, 0555) == 0);
    CHECK(chmod(ro_dir, 0555) == 0);
    if (geteuid() != 0) {
        eacces_checks(ro_file, ro_dir_file);
        return;
    }
    /* Root ignores permission bits: check as "nobody" in a child. */
    CHECK(chmod(t_dir(), 0755) == 0);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
            setuid(65534) != 0 || geteuid() == 0)
            _exit(77);
        if (access(ro_file, R_OK) != 0 || access(ro_file, W_OK) == 0)
            _exit(77);
        eacces_checks(ro_file, ro_dir_file);
        _exit(0);
    }
    st = t_wait(pid);
    if (st == 77)
        SKIP("running as root and could not drop privileges to uid 65534 "
             "(or the permission bits do not apply to it)");
    CHECK_EQ(st, 0);
#endif
}

/* ---- file types --------------------------------------------------------- */

/* Every way of opening `path` that must give MMF_ENOTSUP for its type. */
static void check_unsupported_path(const char *path)
{
    static const uint64_t caps[] = {0, 4096};
    mmf_file *f;
    struct snap s;

    for (size_t a = 0; a < NELEM(all_accesses); a++)
        for (size_t k = 0; k < NELEM(caps); k++) {
            int acc = all_accesses[a];
            if (caps[k] && acc != MMF_ACCESS_READ_WRITE &&
                acc != MMF_ACCESS_READ_WRITE_EXECUTE)
                continue;
            snap_take(path, &s);
            CHECK_FAILS(f,
                        mmf_create_from_file(path, MMF_MODE_OPEN, NULL, caps[k],
                                             acc, 0, &f),
                        MMF_ENOTSUP);
            CHECK_FAILS(f,
                        mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE,
                                             NULL, caps[k], acc, 0, &f),
                        MMF_ENOTSUP);
            snap_check("unsupported type", path, &s);
        }
    snap_take(path, &s);
    CHECK_FAILS(f,
                mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 4096,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_EEXIST);
    snap_check("unsupported type, CREATE_NEW", path, &s);
}

TEST(persisted_directory_enotsup)
{
    const char *path = t_path("a-directory");
    mmf_file *f;

    make_dir(path);
    check_unsupported_path(path);
    CHECK_FAILS(f,
                mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 4096,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ENOTSUP);
    CHECK(is_dir(path));
    /* The test directory itself, and a path with a trailing slash. */
    check_unsupported_path(t_dir());
    for (size_t a = 0; a < NELEM(all_accesses); a++)
        CHECK_FAILS(f,
                    mmf_create_from_file(t_path("a-directory" SEP),
                                         MMF_MODE_OPEN, NULL, 0,
                                         all_accesses[a], 0, &f),
                    MMF_ENOTSUP);
}

#ifdef _WIN32
/* Windows has no FIFOs in directories: its named pipes live under
 * \\.\pipe\. Makes one with `n` instances waiting for clients (each open
 * of the path connects to one) and returns its path. */
static const char *make_named_pipe(HANDLE *servers, int n)
{
    static char name[96];

    snprintf(name, sizeof name, "\\\\.\\pipe\\mmf-test-persisted-%lu-%lu",
             GetCurrentProcessId(), GetTickCount());
    for (int i = 0; i < n; i++) {
        servers[i] =
            CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE,
                             PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, NULL);
        CHECK(servers[i] != INVALID_HANDLE_VALUE);
    }
    return name;
}
#endif

TEST(persisted_fifo_enotsup_without_hanging)
{
#ifdef _WIN32
    /* A named pipe's path, opened as check_unsupported_path does (pipes
     * have no attributes to compare, and CREATE_NEW is answered by the
     * pipe file system, not a directory). */
    static const uint64_t caps[] = {0, 4096};
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    HANDLE servers[20];
    const char *path = make_named_pipe(servers, (int)NELEM(servers));
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++)
        for (size_t k = 0; k < NELEM(caps); k++)
            for (size_t m = 0; m < NELEM(modes); m++) {
                int acc = all_accesses[a];
                if (caps[k] && acc != MMF_ACCESS_READ_WRITE &&
                    acc != MMF_ACCESS_READ_WRITE_EXECUTE)
                    continue;
                CHECK_FAILS(f,
                            mmf_create_from_file(path, modes[m], NULL, caps[k],
                                                 acc, 0, &f),
                            MMF_ENOTSUP);
            }
    CHECK_FAILS(f,
                mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 4096,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ENOTSUP);
    for (size_t i = 0; i < NELEM(servers); i++)
        CHECK(CloseHandle(servers[i]));
#else
    const char *path = t_path("a-fifo");
    mmf_file *f;
    struct stat st;

    CHECK(mkfifo(path, 0644) == 0);
    alarm(10); /* a hang on the FIFO kills the test instead of stalling */
    check_unsupported_path(path);
    CHECK_FAILS(f,
                mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 4096,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ENOTSUP);
    alarm(0);
    CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
#endif
}

#ifndef _WIN32
TEST(persisted_socket_enotsup)
{
    const char *path = t_path("a-socket");
    struct sockaddr_un sa;
    struct stat st;
    int s;

    if (strlen(path) >= sizeof sa.sun_path)
        SKIP("test directory path too long for a Unix socket");
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(s >= 0);
    CHECK(bind(s, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(s, 1) == 0);
    alarm(10);
    check_unsupported_path(path);
    alarm(0);
    CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
    close(s);
}
#endif
NOT_ON_WINDOWS(persisted_socket_enotsup,
               "a Unix-domain socket bound to a path is a POSIX file type; "
               "Windows has no socket that a path opens (socket handles: "
               "persisted_handle_socket_enotsup)")

/* mmf_create_from_handle on `fd` with every access it allows: ENOTSUP. */
static void check_unsupported_handle(mmf_handle fd, int writable)
{
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        int acc = all_accesses[a];
        if (!writable && (acc == MMF_ACCESS_READ_WRITE ||
                          acc == MMF_ACCESS_READ_WRITE_EXECUTE))
            continue;
        CHECK_FAILS(f, mmf_create_from_handle(fd, NULL, 0, acc, 0, &f),
                    MMF_ENOTSUP);
        CHECK_FAILS(f, mmf_create_from_handle(fd, NULL, 4096, acc, 0, &f),
                    MMF_ENOTSUP);
        CHECK(h_is_open(fd));
    }
}

TEST(persisted_handle_pipe_enotsup)
{
#ifdef _WIN32
    HANDLE r, w;

    CHECK(CreatePipe(&r, &w, NULL, 0));
    check_unsupported_handle((mmf_handle)r, 0);
    CHECK(CloseHandle(r) && CloseHandle(w));
#else
    int p[2];

    CHECK(pipe(p) == 0);
    alarm(10);
    check_unsupported_handle(p[0], 0);
    alarm(0);
    close(p[0]);
    close(p[1]);
#endif
}

TEST(persisted_handle_fifo_enotsup)
{
#ifdef _WIN32
    /* The server end of a named pipe (Windows' FIFO), read-write. */
    HANDLE server;

    make_named_pipe(&server, 1);
    check_unsupported_handle((mmf_handle)server, 1);
    CHECK(CloseHandle(server));
#else
    const char *path = t_path("handle-fifo");
    int fd;

    CHECK(mkfifo(path, 0644) == 0);
    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    CHECK(fd >= 0);
    alarm(10);
    check_unsupported_handle(fd, 1);
    alarm(0);
    close(fd);
#endif
}

#ifdef _WIN32
/* ws2_32, loaded at run time: the runner links only mingw's default
 * libraries. */
typedef void (*any_fn)(void);
typedef int(WINAPI *wsa_startup_fn)(WORD version, void *data);
typedef UINT_PTR(WINAPI *socket_fn)(int af, int type, int protocol);
typedef int(WINAPI *closesocket_fn)(UINT_PTR s);

static any_fn ws2_fn(const char *name)
{
    HMODULE ws2 = LoadLibraryA("ws2_32.dll");
    FARPROC p;

    CHECK(ws2 != NULL);
    p = GetProcAddress(ws2, name);
    CHECK(p != NULL);
    return (any_fn)(void (*)(void))p;
}
#endif

TEST(persisted_handle_socket_enotsup)
{
#ifdef _WIN32
    /* A TCP socket: on Windows a socket is a handle too. */
    union {
        void *align;
        unsigned char data[1024]; /* WSADATA */
    } wsa;
    wsa_startup_fn startup = (wsa_startup_fn)ws2_fn("WSAStartup");
    socket_fn make_socket = (socket_fn)ws2_fn("socket");
    closesocket_fn close_socket = (closesocket_fn)ws2_fn("closesocket");
    UINT_PTR s;

    CHECK(startup(MAKEWORD(2, 2), &wsa) == 0);
    s = make_socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 6 /* TCP */);
    CHECK(s != ~(UINT_PTR)0);
    check_unsupported_handle((mmf_handle)s, 1);
    CHECK(close_socket(s) == 0);
#else
    int sv[2];

    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    alarm(10);
    check_unsupported_handle(sv[0], 1);
    alarm(0);
    close(sv[0]);
    close(sv[1]);
#endif
}

TEST(persisted_handle_directory_enotsup)
{
    mmf_handle fd = h_open(t_dir(), H_READ | H_DIR);

    check_unsupported_handle(fd, 0);
    t_close_handle(fd);
}

#ifndef _WIN32
/*
 * A character device for the tests. As root, a private node (mknod) in the
 * test directory, so that a library bug that removed "its" file on failure
 * could not delete the system's /dev/zero or /dev/null; otherwise the
 * system's own node (which an unprivileged process cannot remove).
 */
static const char *char_device(const char *name, unsigned minor)
{
    static char sys_path[32];
    const char *p;
    int fd;

    snprintf(sys_path, sizeof sys_path, "/dev/%s", name);
    if (geteuid() == 0) {
        p = t_path(name);
        if (mknod(p, S_IFCHR | 0666, makedev(1, minor)) == 0) {
            fd = open(p, O_RDWR | O_CLOEXEC);
            if (fd >= 0) {
                close(fd);
                return p;
            }
            unlink(p); /* e.g. a nodev mount */
        }
        SKIP("running as root and cannot make a private copy of %s in the "
             "test directory; not risking the system's node",
             sys_path);
    }
    fd = open(sys_path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        SKIP("%s is not accessible", sys_path);
    close(fd);
    return sys_path;
}

/* The device node is still there and still the same device. */
static void check_device_kept(const char *path, unsigned minor)
{
    struct stat st;
    CHECK(lstat(path, &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_EQ(major(st.st_rdev), 1);
    CHECK_EQ(minor(st.st_rdev), minor);
}

TEST(persisted_dev_zero_explicit_capacity)
{
    static const char msg[] = "written through a view of /dev/zero";
    const char *zero = char_device("zero", 5);
    unsigned char buf[sizeof msg], zeros[4096] = {0};
    mmf_file *f;
    mmf_view *v;
    int fds = t_fd_count();

    CHECK_OK(mmf_create_from_file(zero, MMF_MODE_OPEN, NULL, 3 * 4096,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 3 * 4096);
    CHECK_OK(mmf_view_open(f, 100, 8000, MMF_ACCESS_READ_WRITE, &v));
    CHECK_EQ(mmf_view_size(v), 8000);
    CHECK_MEM(mmf_view_data(v), zeros, 4096);
    CHECK_OK(mmf_view_write(v, 4000, msg, sizeof msg));
    CHECK_OK(mmf_view_read(v, 4000, buf, sizeof buf));
    CHECK_MEM(buf, msg, sizeof msg);
    CHECK_MEM((unsigned char *)mmf_view_data(v) + 4000, msg, sizeof msg);
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_close(v));
    /* Map-level I/O reads back its own writes. */
    CHECK_OK(mmf_write(f, 4090, msg, sizeof msg));
    memset(buf, 0, sizeof buf);
    CHECK_OK(mmf_read(f, 4090, buf, sizeof buf));
    CHECK_MEM(buf, msg, sizeof msg);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);

    /* Read-only access with an explicit capacity: zeros. */
    CHECK_OK(mmf_create_from_file(zero, MMF_MODE_OPEN, NULL, 4096,
                                  MMF_ACCESS_READ, 0, &f));
    CHECK_EQ(mmf_capacity(f), 4096);
    memset(buf, 0xff, sizeof buf);
    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK_MEM(buf, zeros, sizeof buf);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
    check_device_kept(zero, 5);
}

TEST(persisted_dev_zero_capacity_zero)
{
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    const char *zero = char_device("zero", 5);
    mmf_file *f;

    for (size_t m = 0; m < NELEM(modes); m++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            provoke_os_error();
            CHECK_FAILS(f,
                        mmf_create_from_file(zero, modes[m], NULL, 0,
                                             all_accesses[a], 0, &f),
                        MMF_EINVAL);
            CHECK_EQ(mmf_last_os_error(), 0);
            check_device_kept(zero, 5);
        }
}

TEST(persisted_dev_zero_handle)
{
    const char *zero = char_device("zero", 5);
    int fd = open(zero, O_RDWR | O_CLOEXEC);
    unsigned char b = 0;
    mmf_file *f;

    CHECK(fd >= 0);
    CHECK_FAILS(
        f, mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_EINVAL);
    CHECK_OK(
        mmf_create_from_handle(fd, NULL, 8192, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 8192);
    CHECK_OK(mmf_write(f, 8191, "\x5a", 1));
    CHECK_OK(mmf_read(f, 8191, &b, 1));
    CHECK_EQ(b, 0x5a);
    CHECK_OK(mmf_close(f));
    CHECK(fcntl(fd, F_GETFD) != -1);
    close(fd);
    check_device_kept(zero, 5);
}
#endif
NOT_ON_WINDOWS(persisted_dev_zero_explicit_capacity,
               "Windows has no character device that can be mapped, like "
               "/dev/zero (its NUL device: persisted_dev_null_enotsup)")
NOT_ON_WINDOWS(persisted_dev_zero_capacity_zero,
               "Windows has no character device that can be mapped, like "
               "/dev/zero (its NUL device: persisted_dev_null_enotsup)")
NOT_ON_WINDOWS(persisted_dev_zero_handle,
               "Windows has no character device that can be mapped, like "
               "/dev/zero (its NUL device: persisted_dev_null_enotsup)")

#ifdef _WIN32
/* The NUL device is still what the path opens. */
static void check_null_kept(const char *path)
{
    HANDLE h = CreateFileA(path, GENERIC_READ, FILE_SHARE_READ, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);

    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_EQ(GetFileType(h), FILE_TYPE_CHAR);
    CloseHandle(h);
}
#else
static void check_null_kept(const char *path)
{
    check_device_kept(path, 3);
}
#endif

TEST(persisted_dev_null_enotsup)
{
#ifdef _WIN32
    const char *null_dev = "NUL";
#else
    const char *null_dev = char_device("null", 3);
#endif
    mmf_file *f;

    /* The null device cannot be mapped (ENODEV from mmap; Windows maps no
     * character device). */
    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_FAILS(f,
                    mmf_create_from_file(null_dev, MMF_MODE_OPEN, NULL, 4096,
                                         all_accesses[a], 0, &f),
                    MMF_ENOTSUP);
        check_null_kept(null_dev);
    }
}

/* ---- how the file is opened, and the order of checks -------------------- */

#ifdef _WIN32
/* The rights a handle was opened with (NtQueryObject's basic information,
 * from ntdll at run time). */
typedef struct {
    ULONG attributes;
    ACCESS_MASK granted;
    ULONG handles, pointers, reserved[10];
} object_basic_info;
typedef LONG(WINAPI *nt_query_object_fn)(HANDLE h, int info_class, void *info,
                                         ULONG size, ULONG *got);

static ACCESS_MASK granted_access(mmf_handle h)
{
    FARPROC p = GetProcAddress(GetModuleHandleA("ntdll.dll"), "NtQueryObject");
    nt_query_object_fn query = (nt_query_object_fn)(void (*)(void))p;
    object_basic_info info;

    CHECK(query != NULL);
    CHECK(query((HANDLE)h, 0 /* ObjectBasicInformation */, &info, sizeof info,
                NULL) == 0);
    return info.granted;
}
#endif

TEST(persisted_open_flags_follow_access)
{
    const char *path = make_file_at("open-flags", 8192);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        int acc = all_accesses[a];
        int rw = acc == MMF_ACCESS_READ_WRITE ||
                 acc == MMF_ACCESS_READ_WRITE_EXECUTE;
#ifdef _WIN32
        ACCESS_MASK m;
        CHECK_OK(
            mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, acc, 0, &f));
        m = granted_access(mmf_handle_of(f));
        CHECK((m & FILE_READ_DATA) != 0);
        CHECK_EQ((m & FILE_WRITE_DATA) != 0, rw);
        CHECK_EQ((m & FILE_APPEND_DATA) != 0, rw);
#else
        int fl;
        CHECK_OK(
            mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, acc, 0, &f));
        fl = fcntl((int)mmf_handle_of(f), F_GETFL);
        CHECK(fl != -1);
        if (rw)
            CHECK_EQ(fl & O_ACCMODE, O_RDWR);
        else
            CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
#endif
        CHECK_OK(mmf_close(f));
    }
}

TEST(persisted_check_order)
{
    const char *missing = t_path("order-missing");
    const char *existing = make_file_at("order-existing", 10000);
    const char *dir = t_path("order-dir");
    mmf_handle ro, wo;
    mmf_file *f;

    make_dir(dir);
    /* (1) argument values before (2) opening the file. */
    CHECK_FAILS(f,
                mmf_create_from_file(missing, MMF_MODE_OPEN, NULL, 0,
                                     MMF_ACCESS_WRITE, 0, &f),
                MMF_EINVAL);
    CHECK_FAILS(f,
                mmf_create_from_file(existing, MMF_MODE_CREATE_NEW, NULL, 0,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_EINVAL);
    CHECK_FAILS(f,
                mmf_create_from_file(existing, MMF_MODE_CREATE_NEW, NULL,
                                     CAP_LIMIT, MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ERANGE);
    CHECK_FAILS(f,
                mmf_create_from_file(dir, MMF_MODE_OPEN, NULL, 0,
                                     MMF_ACCESS_READ, MMF_OPT_KEEP_NAME, &f),
                MMF_EINVAL);
    CHECK_FAILS(f,
                mmf_create_from_file(missing, MMF_MODE_OPEN, "", 0,
                                     MMF_ACCESS_READ, 0, &f),
                MMF_EINVAL);
    CHECK(!t_exists(missing));

    ro = h_open(existing, H_READ);
    wo = h_open(existing, H_WRITE);
    CHECK_FAILS(f, mmf_create_from_handle(wo, NULL, 0, -1, 0, &f), MMF_EINVAL);
    CHECK_FAILS(
        f, mmf_create_from_handle(wo, NULL, CAP_LIMIT, MMF_ACCESS_READ, 0, &f),
        MMF_ERANGE);
    CHECK_FAILS(
        f,
        mmf_create_from_handle(ro, NULL, 0, MMF_ACCESS_READ_WRITE, 1u << 9, &f),
        MMF_EINVAL);

    /* (2) opening before (3) the rules that involve the file's size. */
    CHECK_FAILS(
        f, mmf_create_from_handle(ro, NULL, 100, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_EACCES);
    CHECK_FAILS(f,
                mmf_create_from_handle(wo, NULL, 100, MMF_ACCESS_READ, 0, &f),
                MMF_EACCES);
    CHECK_FAILS(f,
                mmf_create_from_file(dir, MMF_MODE_OPEN, NULL, 1,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ENOTSUP);
    CHECK_FAILS(f,
                mmf_create_from_file(existing, MMF_MODE_CREATE_NEW, NULL, 100,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_EEXIST);

    /* (3) size rules before (4) OS resources. */
    mmf__fault_set(FAULT_MAP, OS_ENOMEM, 0, -1);
    mmf__fault_set(FAULT_RESERVE, OS_ENOSPC, 0, -1);
    CHECK_FAILS(f,
                mmf_create_from_file(existing, MMF_MODE_OPEN, NULL, 100,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ERANGE);
    CHECK_FAILS(f,
                mmf_create_from_file(existing, MMF_MODE_OPEN, NULL, 20000,
                                     MMF_ACCESS_READ, 0, &f),
                MMF_EINVAL);
    CHECK_FAILS(f,
                mmf_create_from_handle(ro, NULL, 100, MMF_ACCESS_READ, 0, &f),
                MMF_ERANGE);
    mmf__fault_clear();
    CHECK_EQ(t_file_size(existing), 10000);
    check_file_bytes(existing, 0, 10000, 1);
    t_close_handle(ro);
    t_close_handle(wo);
}

/* ---- copy-on-write ------------------------------------------------------ */

TEST(persisted_cow_never_changes_file)
{
    const char *path = make_file_at("cow", 3 * 4096 + 100);
    static const char msg[] = "private copy-on-write bytes";
    unsigned char buf[sizeof msg];
    mmf_file *f;
    mmf_view *v;
    struct snap s;

    snap_take(path, &s);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_COPY_ON_WRITE, 0, &f));
    CHECK_EQ(mmf_capacity(f), 3 * 4096 + 100);
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE, &v));
    CHECK_OK(mmf_view_write(v, 10, msg, sizeof msg));
    CHECK_OK(mmf_view_write(v, 3 * 4096 + 100 - sizeof msg, msg, sizeof msg));
    memset(mmf_view_data(v), 0xee, 4096 * 2);
    CHECK_OK(mmf_view_read(v, 3 * 4096 + 100 - sizeof msg, buf, sizeof buf));
    CHECK_MEM(buf, msg, sizeof msg);
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_DURABLE));
    check_file_bytes(path, 0, 3 * 4096 + 100, 1);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    snap_check("copy-on-write", path, &s);
}

TEST(persisted_cow_map_write_eacces)
{
    const char *path = make_file_at("cow-write", 8192);
    mmf_file *f;
    struct snap s;

    snap_take(path, &s);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_COPY_ON_WRITE, 0, &f));
    CHECK_RC(mmf_write(f, 0, "x", 1), MMF_EACCES);
    CHECK_OK(mmf_close(f));
    snap_check("copy-on-write mmf_write", path, &s);
}

TEST(persisted_cow_read_sees_file_not_private_pages)
{
    const char *path = make_file_at("cow-read", 8192);
    mmf_file *f;
    mmf_view *v1, *v2;
    unsigned char b;
    struct snap s;

    snap_take(path, &s);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_COPY_ON_WRITE, 0, &f));
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE, &v1));
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE, &v2));
    CHECK_OK(mmf_view_write_u8(v1, 5000, 0x00));
    CHECK_OK(mmf_view_write_u8(v2, 5000, 0xff));
    CHECK_OK(mmf_view_read_u8(v1, 5000, &b));
    CHECK_EQ(b, 0x00);
    CHECK_OK(mmf_view_read_u8(v2, 5000, &b));
    CHECK_EQ(b, 0xff);
    CHECK_OK(mmf_read(f, 5000, &b, 1));
    CHECK_EQ(b, t_pattern(-1, 5000));
    CHECK_OK(mmf_view_close(v1));
    CHECK_OK(mmf_view_close(v2));
    CHECK_OK(mmf_close(f));
    snap_check("copy-on-write views", path, &s);
}

TEST(persisted_cow_view_of_read_write_map)
{
    const char *path = make_file_at("cow-of-rw", 8192);
    mmf_file *f;
    mmf_view *v;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_view_open(f, 4096, 4096, MMF_ACCESS_COPY_ON_WRITE, &v));
    memset(mmf_view_data(v), 0, 4096);
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    check_file_bytes(path, 0, 8192, 1);
}

/* ---- mmf_create_from_handle --------------------------------------------- */

TEST(persisted_handle_keeps_fd_and_position)
{
    const char *path = make_file_at("handle-pos", 10000);
    mmf_handle fd = h_open(path, H_RDWR);
    unsigned char b, buf[16];
    mmf_file *f;
    mmf_view *v;
    int fds;

    CHECK(h_seek(fd, 123) == 123);
    fds = t_fd_count();
    CHECK_OK(mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(h_pos(fd), 123);
    CHECK(mmf_handle_of(f) != fd);
    CHECK(h_same_file(fd, mmf_handle_of(f)));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 10000);

    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK_OK(mmf_write(f, 500, "W", 1));
    CHECK_OK(mmf_view_open(f, 200, 100, MMF_ACCESS_READ_WRITE, &v));
    CHECK_OK(mmf_view_write_u8(v, 0, 0x77));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_get_permissions(f, &(unsigned){0}));
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK_OK(mmf_set_inheritable(f, 0));
    CHECK_EQ(h_pos(fd), 123);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);

    /* Still open, still at 123: the next read() gives byte 123. */
    CHECK(h_is_open(fd));
    CHECK_EQ(h_pos(fd), 123);
    CHECK(h_read1(fd, &b));
    CHECK_EQ(b, t_pattern(-1, 123));
    t_pread(path, 200, &b, 1);
    CHECK_EQ(b, 0x77);
    t_pread(path, 500, &b, 1);
    CHECK_EQ(b, 'W');
    t_close_handle(fd);
}

TEST(persisted_handle_failure_keeps_fd_and_position)
{
    const char *path = make_file_at("handle-fail-pos", 10000);
    mmf_handle rw = h_open(path, H_RDWR);
    mmf_handle ro = h_open(path, H_READ);
    mmf_file *f;
    struct snap s;

    CHECK(h_seek(rw, 123) == 123);
    CHECK(h_seek(ro, 4567) == 4567);
    snap_take(path, &s);
    CHECK_FAILS(
        f, mmf_create_from_handle(rw, NULL, 5000, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_ERANGE);
    CHECK_FAILS(f,
                mmf_create_from_handle(ro, NULL, 20000, MMF_ACCESS_READ, 0, &f),
                MMF_EINVAL);
    CHECK_FAILS(
        f, mmf_create_from_handle(ro, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_EACCES);
    mmf__fault_set(FAULT_MAP, OS_MAP_UNSUPPORTED, 0, -1);
    CHECK_FAILS(
        f, mmf_create_from_handle(rw, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_ENOTSUP);
    mmf__fault_clear();
    CHECK_EQ(h_pos(rw), 123);
    CHECK_EQ(h_pos(ro), 4567);
    CHECK(h_is_open(rw) && h_is_open(ro));
    snap_check("failed mmf_create_from_handle", path, &s);
    t_close_handle(rw);
    t_close_handle(ro);
}

TEST(persisted_handle_invalid_minus_one)
{
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        provoke_os_error();
        CHECK_FAILS(f,
                    mmf_create_from_handle(MMF_INVALID_HANDLE, NULL, 0,
                                           all_accesses[a], 0, &f),
                    MMF_EINVAL);
        CHECK_EQ(mmf_last_os_error(), 0);
        CHECK_FAILS(
            f, mmf_create_from_handle(-1, NULL, 4096, all_accesses[a], 0, &f),
            MMF_EINVAL);
    }
}

TEST(persisted_handle_negative_and_huge)
{
    static const mmf_handle bad[] = {-2, -100, INTPTR_MIN,
                                     (mmf_handle)INT_MAX + 1, INTPTR_MAX};
    mmf_file *f;

    for (size_t k = 0; k < NELEM(bad); k++) {
        CHECK_FAILS(f,
                    mmf_create_from_handle(bad[k], NULL, 0,
                                           MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_EINVAL);
        CHECK_FAILS(
            f,
            mmf_create_from_handle(bad[k], NULL, 4096, MMF_ACCESS_READ, 0, &f),
            MMF_EINVAL);
    }
}

TEST(persisted_handle_negative_no_os_error)
{
    static const mmf_handle bad[] = {-2, -100, INTPTR_MIN};
    mmf_file *f;

    /* A negative handle is wrong by value alone: no OS call can fail. */
    for (size_t k = 0; k < NELEM(bad); k++) {
        provoke_os_error();
        CHECK_FAILS(f,
                    mmf_create_from_handle(bad[k], NULL, 0,
                                           MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_EINVAL);
        CHECK_EQ(mmf_last_os_error(), 0);
    }
}

TEST(persisted_handle_o_path_fd)
{
    const char *path = make_file_at("handle-o-path", 8192);
    mmf_handle fd = h_open(path, H_NONE);
    mmf_file *f;

    /* A valid descriptor that carries no read or write rights (O_PATH; a
     * handle opened for no data access on Windows). */
    for (size_t a = 0; a < NELEM(all_accesses); a++)
        CHECK_FAILS(f,
                    mmf_create_from_handle(fd, NULL, 0, all_accesses[a], 0, &f),
                    MMF_EACCES);
    CHECK(h_is_open(fd));
    t_close_handle(fd);
    CHECK_EQ(t_file_size(path), 8192);
}

TEST(persisted_handle_closed_fd)
{
    const char *path = make_file_at("handle-closed", 4096);
    mmf_handle fd = h_open(path, H_RDWR);
    mmf_file *f;

    t_close_handle(fd);
    CHECK(!h_is_open(fd));
    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_FAILS(f,
                    mmf_create_from_handle(fd, NULL, 0, all_accesses[a], 0, &f),
                    MMF_EINVAL);
        CHECK_FAILS(
            f, mmf_create_from_handle(fd, NULL, 4096, all_accesses[a], 0, &f),
            MMF_EINVAL);
    }
    /* A number far above any open descriptor. */
    CHECK_FAILS(f,
                mmf_create_from_handle(100000, NULL, 0, MMF_ACCESS_READ, 0, &f),
                MMF_EINVAL);
    CHECK(!h_is_open(fd));
}

TEST(persisted_handle_rdonly_fd)
{
    const char *path = make_file_at("handle-rdonly", 10000);
    mmf_handle fd = h_open(path, H_READ);
    mmf_file *f;
    struct snap s;

    snap_take(path, &s);
    for (size_t a = 0; a < NELEM(writable_accesses); a++) {
        CHECK_FAILS(
            f, mmf_create_from_handle(fd, NULL, 0, writable_accesses[a], 0, &f),
            MMF_EACCES);
        CHECK_FAILS(f,
                    mmf_create_from_handle(fd, NULL, 10000,
                                           writable_accesses[a], 0, &f),
                    MMF_EACCES);
        CHECK_FAILS(f,
                    mmf_create_from_handle(fd, NULL, 20000,
                                           writable_accesses[a], 0, &f),
                    MMF_EACCES);
    }
    snap_check("O_RDONLY handle, writable access", path, &s);
    for (size_t a = 0; a < NELEM(readonly_accesses); a++) {
        CHECK_OK(
            mmf_create_from_handle(fd, NULL, 0, readonly_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), 10000);
        check_map_bytes(f, 0, 10000, 1);
        CHECK_OK(mmf_close(f));
    }
    snap_check("O_RDONLY handle, read-only access", path, &s);
    t_close_handle(fd);
}

TEST(persisted_handle_wronly_fd)
{
    const char *path = make_file_at("handle-wronly", 10000);
    mmf_handle fd = h_open(path, H_WRITE);
    mmf_file *f;
    struct snap s;

    snap_take(path, &s);
    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_FAILS(f,
                    mmf_create_from_handle(fd, NULL, 0, all_accesses[a], 0, &f),
                    MMF_EACCES);
        CHECK_FAILS(
            f, mmf_create_from_handle(fd, NULL, 10000, all_accesses[a], 0, &f),
            MMF_EACCES);
    }
    snap_check("O_WRONLY handle", path, &s);
    CHECK(h_is_open(fd));
    t_close_handle(fd);
}

TEST(persisted_handle_works_after_caller_closes)
{
    const char *path = make_file_at("handle-closed-later", 10000);
    mmf_handle fd = h_open(path, H_RDWR);
    unsigned char b;
    mmf_file *f;
    mmf_view *v;

    CHECK_OK(mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f));
    t_close_handle(fd);
    CHECK(h_is_open(mmf_handle_of(f)));
    check_map_bytes(f, 0, 10000, 1);
    CHECK_OK(mmf_write(f, 9999, "Z", 1));
    CHECK_OK(mmf_view_open(f, 4096, 0, MMF_ACCESS_READ_WRITE, &v));
    CHECK_EQ(mmf_view_size(v), 10000 - 4096);
    CHECK_OK(mmf_view_write_u8(v, 1, 0x42));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    t_pread(path, 9999, &b, 1);
    CHECK_EQ(b, 'Z');
    t_pread(path, 4097, &b, 1);
    CHECK_EQ(b, 0x42);
    check_file_bytes(path, 0, 4097, 1);
}

TEST(persisted_handle_capacity_rules)
{
    const char *path = make_file_at("handle-cap", 10000);
    mmf_handle rw = h_open(path, H_RDWR);
    mmf_handle ro = h_open(path, H_READ);
    mmf_file *f;
    struct snap s;

    snap_take(path, &s);
    CHECK_FAILS(
        f, mmf_create_from_handle(rw, NULL, 9999, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_ERANGE);
    for (size_t a = 0; a < NELEM(readonly_accesses); a++)
        CHECK_FAILS(f,
                    mmf_create_from_handle(ro, NULL, 10001,
                                           readonly_accesses[a], 0, &f),
                    MMF_EINVAL);
    snap_check("handle capacity errors", path, &s);

    CHECK_OK(mmf_create_from_handle(rw, NULL, 0, MMF_ACCESS_READ, 0, &f));
    CHECK_EQ(mmf_capacity(f), 10000);
    CHECK_OK(mmf_close(f));
    CHECK_OK(
        mmf_create_from_handle(rw, NULL, 20001, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_capacity(f), 20001);
    CHECK_EQ(t_file_size(path), 20001);
    check_file_bytes(path, 0, 10000, 1);
    check_file_bytes(path, 10000, 10001, 0);
    CHECK_OK(mmf_close(f));
    t_close_handle(rw);
    t_close_handle(ro);
}

TEST(persisted_handle_empty_file)
{
    const char *path = make_file_at("handle-empty", 0);
    mmf_handle fd = h_open(path, H_RDWR);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++)
        CHECK_FAILS(f,
                    mmf_create_from_handle(fd, NULL, 0, all_accesses[a], 0, &f),
                    MMF_EINVAL);
    CHECK_EQ(t_file_size(path), 0);
    CHECK_OK(
        mmf_create_from_handle(fd, NULL, 4096, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(t_file_size(path), 4096);
    CHECK_EQ(h_pos(fd), 0);
    CHECK_OK(mmf_close(f));
    t_close_handle(fd);
}

#ifdef _WIN32
/*
 * Windows has no memfd: its shared memory is the pagefile-backed section.
 * A section libmmf made (mmf_create_new) records its exact capacity, as a
 * memfd's size is exact; one made by another program reports its size
 * rounded up to pages (API.md).
 */
#define SECTION_SIZE 10007

/* An anonymous libmmf map of SECTION_SIZE bytes of pattern -1, mapped with
 * every access allowed (execute included). */
static mmf_file *make_libmmf_section(void)
{
    unsigned char buf[SECTION_SIZE];
    mmf_file *m = t_anon_map(SECTION_SIZE, MMF_ACCESS_READ_WRITE_EXECUTE);

    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = t_pattern(-1, i);
    CHECK_OK(mmf_write(m, 0, buf, sizeof buf));
    return m;
}

/* A section of SECTION_SIZE bytes of pattern -1 that libmmf did not make. */
static HANDLE make_foreign_section(void)
{
    HANDLE h =
        CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_EXECUTE_READWRITE,
                           0, SECTION_SIZE, NULL);
    unsigned char *p;

    CHECK(h != NULL);
    p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, SECTION_SIZE);
    CHECK(p != NULL);
    for (size_t i = 0; i < SECTION_SIZE; i++)
        p[i] = t_pattern(-1, i);
    CHECK(UnmapViewOfFile(p));
    return h;
}
#else
/* A memfd of `size` bytes of pattern -1. */
static int make_memfd(uint64_t size)
{
    int fd = memfd_create("persisted-test", MFD_CLOEXEC);
    unsigned char buf[4096];

    CHECK(fd >= 0);
    CHECK(ftruncate(fd, (off_t)size) == 0);
    for (uint64_t off = 0; off < size; off += sizeof buf) {
        size_t k = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = t_pattern(-1, off + i);
        CHECK(pwrite(fd, buf, k, (off_t)off) == (ssize_t)k);
    }
    return fd;
}
#endif

/* Through a map of the 10007-byte object h: a view of its last 7 bytes
 * writes 0xab at 10006; nothing leaks (fds: the count before). */
static void write_last_byte(mmf_handle h, int fds)
{
    mmf_file *f;
    mmf_view *v;

    CHECK_OK(mmf_create_from_handle(h, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_view_open(f, 10000, 0, MMF_ACCESS_READ_WRITE, &v));
    CHECK_EQ(mmf_view_size(v), 7);
    CHECK_OK(mmf_view_write_u8(v, 6, 0xab));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
}

TEST(persisted_handle_memfd_exact_size)
{
#ifdef _WIN32
    mmf_file *src = make_libmmf_section(), *f;
    mmf_handle h = mmf_handle_of(src);
    uint64_t rounded = (SECTION_SIZE + mmf_page_size() - 1) / mmf_page_size() *
                       mmf_page_size();
    HANDLE foreign = make_foreign_section();
    unsigned char b;
    int fds = t_fd_count();

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_OK(mmf_create_from_handle(h, NULL, 0, all_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), SECTION_SIZE);
        CHECK_EQ(mmf_created(f), 0);
        check_map_bytes(f, 0, SECTION_SIZE, 1);
        CHECK_OK(mmf_close(f));
        CHECK_OK(mmf_create_from_handle(h, NULL, SECTION_SIZE, all_accesses[a],
                                        0, &f));
        CHECK_EQ(mmf_capacity(f), SECTION_SIZE);
        CHECK_OK(mmf_close(f));
        /* Another program's section: its page-rounded size. */
        CHECK_OK(mmf_create_from_handle((mmf_handle)foreign, NULL, 0,
                                        all_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), rounded);
        CHECK_EQ(mmf_created(f), 0);
        check_map_bytes(f, 0, SECTION_SIZE, 1);
        check_map_bytes(f, SECTION_SIZE, (size_t)(rounded - SECTION_SIZE), 0);
        CHECK_OK(mmf_close(f));
    }
    write_last_byte(h, fds);
    CHECK_OK(mmf_read(src, 10006, &b, 1));
    CHECK_EQ(b, 0xab);
    CHECK_EQ(mmf_capacity(src), SECTION_SIZE);
    CHECK(CloseHandle(foreign));
    CHECK_OK(mmf_close(src));
#else
    int fd = make_memfd(10007);
    struct stat st;
    mmf_file *f;
    int fds;

    CHECK(lseek(fd, 123, SEEK_SET) == 123);
    fds = t_fd_count();
    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_OK(mmf_create_from_handle(fd, NULL, 0, all_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), 10007);
        CHECK_EQ(mmf_created(f), 0);
        check_map_bytes(f, 0, 10007, 1);
        CHECK_OK(mmf_close(f));
        CHECK_OK(
            mmf_create_from_handle(fd, NULL, 10007, all_accesses[a], 0, &f));
        CHECK_EQ(mmf_capacity(f), 10007);
        CHECK_OK(mmf_close(f));
    }
    write_last_byte(fd, fds);
    {
        unsigned char b;
        CHECK(pread(fd, &b, 1, 10006) == 1);
        CHECK_EQ(b, 0xab);
    }
    CHECK(fstat(fd, &st) == 0);
    CHECK_EQ(st.st_size, 10007);
    CHECK_EQ(h_pos(fd), 123);
    close(fd);
#endif
}

TEST(persisted_handle_memfd_capacity_mismatch)
{
#ifdef _WIN32
    static const uint64_t caps[] = {1, 4096, 10006, 10008, 12288, 65536};
    static const uint64_t foreign_caps[] = {1,     4096,  SECTION_SIZE,
                                            12287, 12289, 65536};
    mmf_file *src = make_libmmf_section(), *f;
    HANDLE foreign = make_foreign_section();

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        for (size_t k = 0; k < NELEM(caps); k++)
            CHECK_FAILS(f,
                        mmf_create_from_handle(mmf_handle_of(src), NULL,
                                               caps[k], all_accesses[a], 0, &f),
                        MMF_ERANGE);
        /* Another program's section is as large as its pages. */
        for (size_t k = 0; k < NELEM(foreign_caps); k++)
            CHECK_FAILS(f,
                        mmf_create_from_handle((mmf_handle)foreign, NULL,
                                               foreign_caps[k], all_accesses[a],
                                               0, &f),
                        MMF_ERANGE);
    }
    CHECK_EQ(mmf_capacity(src), SECTION_SIZE);
    check_map_bytes(src, 0, SECTION_SIZE, 1);
    CHECK(CloseHandle(foreign));
    CHECK_OK(mmf_close(src));
#else
    int fd = make_memfd(10007);
    static const uint64_t caps[] = {1, 4096, 10006, 10008, 12288, 65536};
    struct stat st;
    mmf_file *f;

    for (size_t k = 0; k < NELEM(caps); k++)
        for (size_t a = 0; a < NELEM(all_accesses); a++) {
            CHECK_FAILS(f,
                        mmf_create_from_handle(fd, NULL, caps[k],
                                               all_accesses[a], 0, &f),
                        MMF_ERANGE);
            CHECK(fstat(fd, &st) == 0);
            CHECK_EQ(st.st_size, 10007);
        }
    close(fd);
#endif
}

/* ---- inheritance -------------------------------------------------------- */

TEST(persisted_handle_cloexec_by_default)
{
    const char *path = make_file_at("cloexec", 4096);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      all_accesses[a], 0, &f));
        CHECK(mmf_handle_of(f) != MMF_INVALID_HANDLE);
        CHECK(h_cloexec(mmf_handle_of(f)));
        CHECK_OK(mmf_close(f));
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      all_accesses[a], MMF_OPT_INHERITABLE,
                                      &f));
        CHECK(!h_cloexec(mmf_handle_of(f)));
        CHECK_OK(mmf_close(f));
    }
}

TEST(persisted_inheritable_flag_created_file)
{
    const char *path = t_path("inherit-created");
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 4096,
                                  MMF_ACCESS_READ_WRITE, MMF_OPT_INHERITABLE,
                                  &f));
    CHECK(!h_cloexec(mmf_handle_of(f)));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 4096,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK(h_cloexec(mmf_handle_of(f)));
    CHECK_OK(mmf_close(f));
}

TEST(persisted_set_inheritable_toggles)
{
    const char *path = make_file_at("toggle", 4096);
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK(h_cloexec(mmf_handle_of(f)));
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK(!h_cloexec(mmf_handle_of(f)));
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK(!h_cloexec(mmf_handle_of(f)));
    CHECK_OK(mmf_set_inheritable(f, 0));
    CHECK(h_cloexec(mmf_handle_of(f)));
    CHECK_OK(mmf_close(f));
    CHECK_RC(mmf_set_inheritable(NULL, 1), MMF_EINVAL);
    CHECK_RC(mmf_set_inheritable(NULL, 0), MMF_EINVAL);
}

TEST(persisted_handle_inheritable_flag)
{
    const char *path = make_file_at("handle-inherit", 4096);
    /* the caller's fd: no FD_CLOEXEC */
    mmf_handle fd = h_open(path, H_RDWR | H_INHERIT);
    mmf_handle fd2 = h_open(path, H_RDWR);
    mmf_file *f;

    CHECK_OK(mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK(h_cloexec(mmf_handle_of(f)));
    CHECK(!h_cloexec(fd));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_create_from_handle(fd2, NULL, 0, MMF_ACCESS_READ_WRITE,
                                    MMF_OPT_INHERITABLE, &f));
    CHECK(!h_cloexec(mmf_handle_of(f)));
    CHECK(h_cloexec(fd2));
    CHECK_OK(mmf_set_inheritable(f, 0));
    CHECK(h_cloexec(mmf_handle_of(f)));
    CHECK(h_cloexec(fd2));
    CHECK_OK(mmf_close(f));
    t_close_handle(fd);
    t_close_handle(fd2);
}

/* argv: fd, file id (inode), "open" or "closed". With "open", the child
 * maps the inherited descriptor and checks its first bytes. */
HELPER(persisted_fd_probe)
{
    mmf_handle fd;
    uint64_t id;
    mmf_file *f;
    unsigned char buf[64];

    if (argc != 3)
        return 2;
    fd = (mmf_handle)strtoll(argv[0], NULL, 10);
    id = strtoull(argv[1], NULL, 10);
    if (strcmp(argv[2], "closed") == 0)
        return h_file_id(fd) != id ? 0 : 1;
    if (h_file_id(fd) != id)
        return 3;
    if (mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ, 0, &f) != MMF_OK)
        return 4;
    if (mmf_read(f, 0, buf, sizeof buf) != MMF_OK)
        return 5;
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != t_pattern(-1, i))
            return 6;
    mmf_close(f);
    return 0;
}

/* Starts an exec'd child that checks whether the map's handle is open. */
static int probe_child(mmf_file *f, const char *expect)
{
    char fdbuf[32], inobuf[32];
    const char *args[4];
    uint64_t id = h_file_id(mmf_handle_of(f));

    CHECK(id != 0);
    snprintf(fdbuf, sizeof fdbuf, "%lld", (long long)mmf_handle_of(f));
    snprintf(inobuf, sizeof inobuf, "%" PRIu64, id);
    args[0] = fdbuf;
    args[1] = inobuf;
    args[2] = expect;
    args[3] = NULL;
    return t_wait(t_spawn("persisted_fd_probe", args));
}

TEST(persisted_inheritance_across_exec)
{
    const char *path = make_file_at("inherit-exec", 4096);
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(probe_child(f, "closed"), 0);
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK_EQ(probe_child(f, "open"), 0);
    CHECK_OK(mmf_set_inheritable(f, 0));
    CHECK_EQ(probe_child(f, "closed"), 0);
    CHECK_OK(mmf_close(f));

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  MMF_OPT_INHERITABLE, &f));
    CHECK_EQ(probe_child(f, "open"), 0);
    CHECK_OK(mmf_close(f));
}

/* ---- permissions -------------------------------------------------------- */

TEST(persisted_created_file_mode_follows_umask)
{
#ifdef _WIN32
    /* No umask: a file mmf_create_from_file creates gets the directory's
     * inherited ACL, as any other file created there does (API.md). */
    const char *plain = make_file_at("inherited-plain", 4096);
    const char *path = t_path("inherited-mmf");
    unsigned mode = 12345, plain_mode = 54321;
    mmf_file *f;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 4096,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(file_perm(path), file_perm(plain));
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_create_from_file(plain, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f));
    CHECK_OK(mmf_get_permissions(f, &plain_mode));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(mode, plain_mode);
    CHECK_EQ(mode, file_perm(path));
#else
    static const struct {
        mode_t umask;
        unsigned want;
    } cases[] = {{022, 0644}, {027, 0640}, {077, 0600}, {0, 0666}, {0777, 0}};
    mmf_file *f;

    for (size_t k = 0; k < NELEM(cases); k++) {
        char name[32];
        const char *path;
        unsigned mode = 12345;

        snprintf(name, sizeof name, "umask-%zu", k);
        path = t_path(name);
        umask(cases[k].umask);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 4096,
                                      MMF_ACCESS_READ_WRITE, 0, &f));
        CHECK_EQ(file_perm(path), cases[k].want);
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, cases[k].want);
        CHECK_OK(mmf_close(f));
    }
    umask(022);
#endif
}

TEST(persisted_get_permissions_existing_file)
{
    const char *path = make_file_at("perm-existing", 4096);
#ifdef _WIN32
    /* Modes whose group bits a DACL expresses (as Everyone's). */
    static const unsigned modes[] = {0644, 0400, 0777, 0700};
#else
    static const unsigned modes[] = {0604, 0400, 0777, 0640};
#endif
    mmf_file *f;

#ifdef _WIN32
    require_file_dacls();
#endif
    for (size_t k = 0; k < NELEM(modes); k++) {
        unsigned mode = 12345;
        set_file_mode(path, modes[k]);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      MMF_ACCESS_READ, 0, &f));
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, modes[k]);
        CHECK_OK(mmf_close(f));
    }
}

TEST(persisted_set_permissions)
{
    const char *path = make_file_at("perm-set", 4096);
#ifdef _WIN32
    /* Group bits must equal the owner's or Everyone's (DESIGN.md). */
    static const unsigned modes[] = {0600, 0660, 0444, 0777, 0, 0711, 0644};
    static const unsigned inexpressible[] = {0640, 0751, 0604, 0421};
#else
    static const unsigned modes[] = {0600, 0640, 0444, 0777, 0, 0751, 0644};
#endif
    mmf_file *f;

#ifdef _WIN32
    /* Refused before anything changes. */
    {
        unsigned before = file_perm(path);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      MMF_ACCESS_READ_WRITE, 0, &f));
        for (size_t k = 0; k < NELEM(inexpressible); k++) {
            unsigned mode = 12345;
            CHECK_RC(mmf_set_permissions(f, inexpressible[k]), MMF_ENOTSUP);
            CHECK_EQ(file_perm(path), before);
            CHECK_OK(mmf_get_permissions(f, &mode));
            CHECK_EQ(mode, before);
        }
        CHECK_OK(mmf_close(f));
    }
    require_file_dacls();
#endif
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    for (size_t k = 0; k < NELEM(modes); k++) {
        unsigned mode = 12345;
        CHECK_OK(mmf_set_permissions(f, modes[k]));
        CHECK_EQ(file_perm(path), modes[k]);
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, modes[k]);
    }
    CHECK_OK(mmf_close(f));

    /* A map opened read-only may still change its file's mode (owner). */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  0, &f));
    CHECK_OK(mmf_set_permissions(f, 0600));
    CHECK_EQ(file_perm(path), 0600);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_set_permissions_bad_mode)
{
    const char *path = make_file_at("perm-bad", 4096);
    static const unsigned bad[] = {01000, 02000,  04000,   01777,
                                   06755, 010000, 0x10000, ~0u};
    unsigned start = 0640;
    mmf_file *f;

#ifdef _WIN32
    /* The mode the file was created with (a DACL for 0640 needs a group
     * entry, and wine does not keep DACLs as set). */
    start = file_perm(path);
#else
    set_file_mode(path, start);
#endif
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    for (size_t k = 0; k < NELEM(bad); k++) {
        unsigned mode = 12345;
        provoke_os_error();
        CHECK_RC(mmf_set_permissions(f, bad[k]), MMF_EINVAL);
        CHECK_EQ(mmf_last_os_error(), 0);
        CHECK_EQ(file_perm(path), start);
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, start);
    }
    CHECK_OK(mmf_close(f));
}

TEST(persisted_permissions_null_arguments)
{
    const char *path = make_file_at("perm-null", 4096);
    unsigned mode = 12345;
    mmf_file *f;

    CHECK_RC(mmf_get_permissions(NULL, &mode), MMF_EINVAL);
    CHECK_EQ(mode, 12345);
    CHECK_RC(mmf_get_permissions(NULL, NULL), MMF_EINVAL);
    CHECK_RC(mmf_set_permissions(NULL, 0600), MMF_EINVAL);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    provoke_os_error();
    CHECK_RC(mmf_get_permissions(f, NULL), MMF_EINVAL);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_getters_on_null)
{
    CHECK_EQ(mmf_capacity(NULL), 0);
    CHECK_RC(mmf_access_of(NULL), MMF_EINVAL);
    CHECK(mmf_name(NULL) == NULL);
    CHECK_EQ(mmf_created(NULL), 0);
    CHECK(mmf_handle_of(NULL) == MMF_INVALID_HANDLE);
    CHECK_OK(mmf_close(NULL));
}

/* ---- empty files (after CPython's test_mmap) --------------------------- */

TEST(persisted_empty_file_capacity_zero)
{
    const char *path = make_file_at("empty", 0);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(all_accesses); a++) {
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                         all_accesses[a], 0, &f),
                    MMF_EINVAL);
        CHECK(t_exists(path));
        CHECK_EQ(t_file_size(path), 0);
    }
}

TEST(persisted_empty_file_grows_with_capacity)
{
    const char *path = make_file_at("empty-grow", 0);
    unsigned char buf[4096], zeros[4096] = {0};
    mmf_file *f;
    mmf_view *v;

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 4096,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 4096);
    CHECK_EQ(t_file_size(path), 4096);
    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK_MEM(buf, zeros, sizeof buf);
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v));
    memcpy(mmf_view_data(v), "foo", 3);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    t_pread(path, 0, buf, 4);
    CHECK_MEM(buf, "foo\0", 4);
}

TEST(persisted_empty_file_readonly_larger)
{
    const char *path = make_file_at("empty-ro", 0);
    mmf_file *f;

    for (size_t a = 0; a < NELEM(readonly_accesses); a++) {
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 4096,
                                         readonly_accesses[a], 0, &f),
                    MMF_EINVAL);
        CHECK_EQ(t_file_size(path), 0);
    }
}

/* ---- large sparse files (after CPython's test_mmap) -------------------- */

#define BIG_SIZE (5 * GIB)

/* The byte the large-file tests put at offset `o`. */
static unsigned char big_byte(uint64_t o)
{
    return (unsigned char)((o ^ (o >> 8) ^ (o >> 16) ^ (o >> 31) ^ (o >> 32)) *
                               29u +
                           11u);
}

/* Regions around the 1, 2, 3 and 4 GiB boundaries, and the end. */
static const struct {
    uint64_t off, len;
} big_regions[] = {
    {GIB - 8, 16},       {(UINT64_C(1) << 31) - 4, 9},
    {3 * GIB - 8, 16},   {(UINT64_C(1) << 32) - 4, 9},
    {BIG_SIZE - 16, 16},
};

/* Creates a 5 GiB sparse file with known bytes in big_regions, mapped
 * read-write. SKIPs where the file system cannot hold it. */
static mmf_file *make_big(const char *path)
{
    mmf_file *f;
    int rc =
        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, BIG_SIZE,
                             MMF_ACCESS_READ_WRITE, MMF_OPT_DELAY_ALLOCATE, &f);

    if (rc == MMF_ERANGE || rc == MMF_ENOSPC || rc == MMF_ENOTSUP)
        SKIP("the file system cannot hold a sparse 5 GiB file (%s)",
             mmf_errname(rc));
    CHECK_OK(rc);
    CHECK_EQ(mmf_capacity(f), BIG_SIZE);
    CHECK_EQ(t_file_size(path), BIG_SIZE);
    CHECK((uint64_t)file_alloc(path) <= MIB);
    for (size_t r = 0; r < NELEM(big_regions); r++) {
        unsigned char buf[16];
        for (uint64_t i = 0; i < big_regions[r].len; i++)
            buf[i] = big_byte(big_regions[r].off + i);
        t_pwrite(path, big_regions[r].off, buf, (size_t)big_regions[r].len);
    }
    return f;
}

TEST(persisted_large_sparse_views)
{
    const char *path = t_path("big-views");
    mmf_file *f = make_big(path);

    for (size_t r = 0; r < NELEM(big_regions); r++) {
        uint64_t off = big_regions[r].off, len = big_regions[r].len;
        unsigned char buf[16];
        mmf_view *v;

        CHECK_OK(mmf_view_open(f, off, len, MMF_ACCESS_READ, &v));
        CHECK_EQ(mmf_view_offset(v), off);
        CHECK_EQ(mmf_view_size(v), len);
        for (uint64_t i = 0; i < len; i++)
            CHECK_EQ(((unsigned char *)mmf_view_data(v))[i], big_byte(off + i));
        CHECK_OK(mmf_view_read(v, 0, buf, (size_t)len));
        for (uint64_t i = 0; i < len; i++)
            CHECK_EQ(buf[i], big_byte(off + i));
        CHECK_OK(mmf_view_close(v));
    }
    /* The last bytes, through a view "to the end". */
    {
        mmf_view *v;
        uint8_t b;
        CHECK_OK(mmf_view_open(f, BIG_SIZE - 16, 0, MMF_ACCESS_READ, &v));
        CHECK_EQ(mmf_view_size(v), 16);
        CHECK_OK(mmf_view_read_u8(v, 15, &b));
        CHECK_EQ(b, big_byte(BIG_SIZE - 1));
        CHECK_RC(mmf_view_read_u8(v, 16, &b), MMF_ERANGE);
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_view_open(f, BIG_SIZE, 0, MMF_ACCESS_READ, &v));
        CHECK_EQ(mmf_view_size(v), 0);
        CHECK(mmf_view_data(v) == NULL);
        CHECK_OK(mmf_view_close(v));
        CHECK_RC(mmf_view_open(f, BIG_SIZE - 15, 16, MMF_ACCESS_READ, &v),
                 MMF_ERANGE);
    }
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), BIG_SIZE);
}

TEST(persisted_large_sparse_map_read)
{
    const char *path = t_path("big-read");
    mmf_file *f = make_big(path);
    unsigned char *buf = malloc(2 * 65536);

    CHECK(buf != NULL);
    for (size_t r = 0; r < NELEM(big_regions); r++) {
        uint64_t off = big_regions[r].off, len = big_regions[r].len;
        unsigned char small[16];
        CHECK_OK(mmf_read(f, off, small, (size_t)len));
        for (uint64_t i = 0; i < len; i++)
            CHECK_EQ(small[i], big_byte(off + i));
    }
    /* 128 KiB across each window boundary: the known bytes, zeros around. */
    for (uint64_t b = 1; b <= 4; b++) {
        uint64_t start = b * GIB - 65536;
        CHECK_OK(mmf_read(f, start, buf, 2 * 65536));
        for (uint64_t i = 0; i < 2 * 65536; i++) {
            uint64_t o = start + i;
            int known = 0;
            for (size_t r = 0; r < NELEM(big_regions); r++)
                if (o >= big_regions[r].off &&
                    o < big_regions[r].off + big_regions[r].len)
                    known = 1;
            if (buf[i] != (known ? big_byte(o) : 0))
                t_fail(__FILE__, __LINE__, "byte %" PRIu64 " is %#x", o,
                       buf[i]);
        }
    }
    {
        unsigned char tail[16];
        CHECK_OK(mmf_read(f, BIG_SIZE - 16, tail, 16));
        for (uint64_t i = 0; i < 16; i++)
            CHECK_EQ(tail[i], big_byte(BIG_SIZE - 16 + i));
        CHECK_RC(mmf_read(f, BIG_SIZE - 15, tail, 16), MMF_ERANGE);
    }
    free(buf);
    CHECK_OK(mmf_close(f));
}

TEST(persisted_large_sparse_write)
{
    const char *path = t_path("big-write");
    mmf_file *f = make_big(path);
    static const uint64_t offs[] = {GIB - 3, (UINT64_C(1) << 31) - 2,
                                    3 * GIB - 1, (UINT64_C(1) << 32) - 5,
                                    BIG_SIZE - 7};
    static const char msg[] = "written!"; /* 8 bytes + NUL */
    char buf[sizeof msg];
    mmf_view *v;

    /* mmf_write across each boundary, then pread. */
    for (size_t k = 0; k < NELEM(offs); k++) {
        size_t n = offs[k] + sizeof msg > BIG_SIZE
                       ? (size_t)(BIG_SIZE - offs[k])
                       : sizeof msg;
        CHECK_OK(mmf_write(f, offs[k], msg, n));
        memset(buf, 0, sizeof buf);
        t_pread(path, offs[k], buf, n);
        CHECK_MEM(buf, msg, n);
        memset(buf, 0, sizeof buf);
        CHECK_OK(mmf_read(f, offs[k], buf, n));
        CHECK_MEM(buf, msg, n);
    }
    CHECK_RC(mmf_write(f, BIG_SIZE - 1, msg, 2), MMF_ERANGE);

    /* A read-write view straddling 4 GiB, written through its pointer. */
    CHECK_OK(mmf_view_open(f, (UINT64_C(1) << 32) - 4096, 8192,
                           MMF_ACCESS_READ_WRITE, &v));
    memcpy((char *)mmf_view_data(v) + 4096 - 4, "ABCDEFGH", 8);
    CHECK_OK(mmf_view_write_u32(v, 8188, 0x01020304));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_close(v));
    t_pread(path, (UINT64_C(1) << 32) - 4, buf, 8);
    CHECK_MEM(buf, "ABCDEFGH", 8);
    {
        uint32_t x;
        t_pread(path, (UINT64_C(1) << 32) + 4092, &x, 4);
        CHECK_EQ(x, 0x01020304);
    }
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), BIG_SIZE);
    CHECK((uint64_t)file_alloc(path) <= 4 * MIB);
}

TEST(persisted_large_sparse_open_existing)
{
    /* A sparse 5 GiB file made with ftruncate, opened with capacity 0. */
    const char *path = t_path("big-ftruncate");
    unsigned char b = 0x99, got;
    mmf_file *f;
    mmf_view *v;
#ifdef _WIN32
    /* The same with SetEndOfFile. */
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                           CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    LARGE_INTEGER at;

    CHECK(h != INVALID_HANDLE_VALUE);
    at.QuadPart = (LONGLONG)BIG_SIZE;
    if (!SetFilePointerEx(h, at, NULL, FILE_BEGIN) || !SetEndOfFile(h))
        SKIP("the file system cannot hold a sparse 5 GiB file: error %lu",
             GetLastError());
    CHECK(CloseHandle(h));
    t_pwrite(path, UINT64_C(1) << 32, &b, 1);
#else
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

    CHECK(fd >= 0);
    if (ftruncate(fd, (off_t)BIG_SIZE) != 0)
        SKIP("the file system cannot hold a sparse 5 GiB file: %s",
             strerror(errno));
    CHECK(pwrite(fd, &b, 1, (off_t)(UINT64_C(1) << 32)) == 1);
    close(fd);
#endif
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  0, &f));
    CHECK_EQ(mmf_capacity(f), BIG_SIZE);
    CHECK_OK(mmf_read(f, UINT64_C(1) << 32, &got, 1));
    CHECK_EQ(got, 0x99);
    CHECK_OK(mmf_view_open(f, (UINT64_C(1) << 32) - 1, 2, MMF_ACCESS_READ, &v));
    CHECK_EQ(((unsigned char *)mmf_view_data(v))[0], 0);
    CHECK_EQ(((unsigned char *)mmf_view_data(v))[1], 0x99);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    /* Read-only and one byte more than the file: MMF_EINVAL. */
    CHECK_FAILS(f,
                mmf_create_from_file(path, MMF_MODE_OPEN, NULL, BIG_SIZE + 1,
                                     MMF_ACCESS_READ, 0, &f),
                MMF_EINVAL);
    CHECK_FAILS(f,
                mmf_create_from_file(path, MMF_MODE_OPEN, NULL, BIG_SIZE - 1,
                                     MMF_ACCESS_READ_WRITE, 0, &f),
                MMF_ERANGE);
    CHECK_EQ(t_file_size(path), BIG_SIZE);
}

/* ---- descriptor leaks --------------------------------------------------- */

TEST(persisted_no_fd_leak_after_close)
{
    const char *path = make_file_at("leak", 3 * 4096);
    int fds = t_fd_count();

    for (int round = 0; round < 20; round++) {
        mmf_file *f;
        mmf_view *v;
        unsigned char b;
        mmf_handle fd;

        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      all_accesses[round % 5], 0, &f));
        CHECK_OK(mmf_view_open(f, 1, 100, MMF_ACCESS_READ, &v));
        CHECK_OK(mmf_read(f, 5000, &b, 1));
        CHECK_OK(mmf_close(f)); /* the view outlives the map handle */
        CHECK_EQ(((unsigned char *)mmf_view_data(v))[0], t_pattern(-1, 1));
        CHECK_OK(mmf_view_close(v));
        CHECK_EQ(t_fd_count(), fds);

        fd = h_open(path, H_READ);
        CHECK_OK(mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ, 0, &f));
        CHECK_OK(mmf_close(f));
        t_close_handle(fd);
        CHECK_EQ(t_fd_count(), fds);
    }
}

TEST(persisted_no_fd_leak_on_failures)
{
    const char *path = make_file_at("leak-fail", 10000);
    const char *empty = make_file_at("leak-empty", 0);
    const char *dir = t_path("leak-dir");
    mmf_handle fd;
    int fds;
    mmf_file *f;

    make_dir(dir);
    fds = t_fd_count();
    for (int round = 0; round < 10; round++) {
        /* each failing after the library opened the file */
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 100,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_ERANGE);
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 20000,
                                         MMF_ACCESS_READ, 0, &f),
                    MMF_EINVAL);
        CHECK_FAILS(f,
                    mmf_create_from_file(empty, MMF_MODE_OPEN, NULL, 0,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_EINVAL);
        CHECK_FAILS(f,
                    mmf_create_from_file(dir, MMF_MODE_OPEN, NULL, 0,
                                         MMF_ACCESS_READ, 0, &f),
                    MMF_ENOTSUP);
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 4096,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_EEXIST);
        mmf__fault_set(FAULT_RESERVE, OS_ENOSPC, 0, -1);
        CHECK_FAILS(f,
                    mmf_create_from_file(path, MMF_MODE_OPEN, NULL, MIB,
                                         MMF_ACCESS_READ_WRITE, 0, &f),
                    MMF_ENOSPC);
        mmf__fault_clear();

        fd = h_open(path, H_READ);
        CHECK_FAILS(
            f, mmf_create_from_handle(fd, NULL, 100, MMF_ACCESS_READ, 0, &f),
            MMF_ERANGE);
        CHECK_FAILS(
            f,
            mmf_create_from_handle(fd, NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f),
            MMF_EACCES);
        t_close_handle(fd);
        CHECK_EQ(t_fd_count(), fds);
    }
}
