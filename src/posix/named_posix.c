/*
 * Named objects on POSIX with the lifetime of Windows: an object lives while
 * any process holds a handle or view of it, and is gone when the last holder
 * closes, exits or is killed.
 *
 * Each named object N has a registration file in /dev/shm
 * (".mmf-map.N" or ".mmf-mtx.N"; a digest when that is too long) holding a
 * record: what the object is, its exact capacity, creation access, and the
 * identity (device, inode) of its data. A non-persisted map's data is the
 * POSIX shared-memory object "/N" itself, so shm_open("/N") sees it.
 *
 * Two kinds of lock on the registration file carry the protocol:
 * - every holder keeps an open file description of it with an OFD read
 *   lock on byte 0; the kernel drops it when the description's last
 *   descriptor closes, including when the process dies (the dead-man
 *   switch of SQLite's -shm and LMDB's lock file);
 * - create, open, close and unlink run under flock(LOCK_EX) on it, so they
 *   are serialised per name. Under that lock, "no other holder" is an
 *   F_OFD_GETLK for a write lock on byte 0 that finds nothing.
 * After taking the flock, every caller checks that the name still refers to
 * the inode it locked (a last closer may have unlinked it meanwhile), and
 * starts again if not. A record whose holders are all gone is stale: the
 * next caller removes its data and starts afresh; it is never served.
 */
#define _GNU_SOURCE
#include "sys_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"
#define REC_MAGIC 0x524d4d46u /* "FMMR" */
#define REC_VERSION 1

enum { STATE_EMPTY = 0, STATE_CREATING = 1, STATE_LIVE = 2 };
enum { REC_SHM = 1, REC_FILE = 2, REC_MUTEX = 3 };

/* The record at the start of a registration file. */
struct record {
    uint32_t magic;
    uint16_t version;
    uint16_t size;      /* sizeof(struct record) */
    uint32_t signature; /* layout: see layout_signature() */
    uint32_t state;
    uint32_t kind;
    int32_t access; /* creation access */
    uint32_t flags; /* MMF_OPT_KEEP_NAME */
    uint32_t reserved;
    uint64_t capacity;
    uint64_t dev, ino; /* identity of the data */
    char name[256];
    char path[4096];
};

/* A registration file opened and flock'ed by this call. */
struct reg {
    int fd;
    int kind; /* REC_* namespace: maps or mutexes */
    char base[256];
    char file[256];
    int have; /* the record read is valid */
    int mine; /* this call made the file, or cleared a stale record:
                 an empty one is then ours to remove */
    struct record rec;
};

static int dir_fd = -1;
static pthread_once_t dir_once = PTHREAD_ONCE_INIT;
static int dir_errno;

static void open_dir(void)
{
    dir_fd = open(SHM_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0)
        dir_errno = errno;
}

static int shm_dir(void)
{
    pthread_once(&dir_once, open_dir);
    if (dir_fd < 0) {
        errno = dir_errno;
        return -1;
    }
    return dir_fd;
}

uint32_t mmf__layout_signature(void)
{
    return (uint32_t)(sizeof(pthread_mutex_t) << 16 |
                      sizeof(struct record) << 4 | sizeof(void *));
}

static int os_fail(void)
{
    int e = errno;
    return mmf__fail(mmf__error_from_os(e), e);
}

/* The name without a leading Local\ or Global\. */
static const char *base_name(const char *name)
{
    if (strncmp(name, "Local\\", 6) == 0)
        return name + 6;
    if (strncmp(name, "Global\\", 7) == 0)
        return name + 7;
    return name;
}

/* Registration file name: prefix + base, or prefix + '#' + a 128-bit
 * digest of the base when that would exceed NAME_MAX. */
static void reg_file_name(int kind, const char *base, char out[256])
{
    const char *prefix = kind == REC_MUTEX ? ".mmf-mtx." : ".mmf-map.";
    size_t n = strlen(prefix) + strlen(base);

    if (n <= 255) {
        snprintf(out, 256, "%s%s", prefix, base);
        return;
    }
    /* Two FNV-1a 64-bit hashes with different offsets. */
    uint64_t h1 = 0xcbf29ce484222325u, h2 = 0x84222325cbf29ce4u;
    for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
        h1 = (h1 ^ *p) * 0x100000001b3u;
        h2 = (h2 ^ *p) * 0x100000001b3u + 1;
    }
    snprintf(out, 256, "%s#%016llx%016llx", prefix, (unsigned long long)h1,
             (unsigned long long)h2);
}

/* ---- the two locks ---- */

static int lock_byte(int fd, short type, off_t at)
{
    struct flock l;
    int r;

    memset(&l, 0, sizeof l);
    l.l_type = type;
    l.l_whence = SEEK_SET;
    l.l_start = at;
    l.l_len = 1;
    do
        r = fcntl(fd, F_OFD_SETLK, &l);
    while (r == -1 && errno == EINTR);
    return r;
}

/* The holder lock is byte 0. A holder also read-locks byte 1 + its pid,
 * so that inspection (/proc/locks) can count holding processes. Only
 * async-signal-safe calls: used after fork(). */
static int set_hold(int fd, short type)
{
    if (lock_byte(fd, type, 0) != 0)
        return -1;
    if (type == F_RDLCK)
        (void)lock_byte(fd, F_RDLCK, (off_t)getpid() + 1);
    return 0;
}

/* Does any other open file description hold the registration? */
static int other_holders(int fd)
{
    struct flock l;

    memset(&l, 0, sizeof l);
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    l.l_start = 0;
    l.l_len = 1;
    if (fcntl(fd, F_OFD_GETLK, &l) == -1)
        return 1; /* cannot tell: assume held, never destroy */
    return l.l_type != F_UNLCK;
}

static void admin_unlock(int fd)
{
    if (fd >= 0)
        (void)flock(fd, LOCK_UN);
}

/* ---- records ---- */

static int read_record(struct reg *r)
{
    ssize_t n = pread(r->fd, &r->rec, sizeof r->rec, 0);

    r->have = 0;
    if (n < 0)
        return os_fail();
    if (n == 0)
        return MMF_OK; /* empty: a fresh or cleared registration */
    if ((size_t)n < sizeof r->rec || r->rec.magic != REC_MAGIC ||
        r->rec.version != REC_VERSION || r->rec.size != sizeof r->rec ||
        r->rec.signature != mmf__layout_signature() ||
        (r->rec.kind != REC_SHM && r->rec.kind != REC_FILE &&
         r->rec.kind != REC_MUTEX))
        return mmf__fail(MMF_EFORMAT, 0);
    r->have = r->rec.state != STATE_EMPTY;
    return MMF_OK;
}

static int write_record(struct reg *r)
{
    ssize_t n;

    r->rec.magic = REC_MAGIC;
    r->rec.version = REC_VERSION;
    r->rec.size = sizeof r->rec;
    r->rec.signature = mmf__layout_signature();
    snprintf(r->rec.name, sizeof r->rec.name, "%s", r->base);
    /* Through a plain buffer: GCC 12 under ASan misreads the struct's
     * size in a direct pwrite (-Wstringop-overread). */
    unsigned char bytes[sizeof(struct record)];
    memcpy(bytes, &r->rec, sizeof bytes);
    do
        n = pwrite(r->fd, bytes, sizeof bytes, 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof r->rec) {
        if (n >= 0)
            errno = ENOSPC;
        return mmf__fail(
            errno == ENOSPC ? MMF_ENOSPC : mmf__error_from_os(errno), errno);
    }
    r->have = 1;
    return MMF_OK;
}

/* Is the object live: held by someone else, or kept by name? */
static int is_live(struct reg *r)
{
    return r->have && r->rec.state == STATE_LIVE &&
           ((r->rec.flags & MMF_OPT_KEEP_NAME) || other_holders(r->fd));
}

/* ---- opening a registration ---- */

/*
 * Opens and flocks the registration of (kind, name), creating it when
 * `create`. On MMF_OK the caller holds the admin lock on r->fd and has read
 * the record. MMF_ENOENT when it does not exist and !create.
 */
static int reg_open(int kind, const char *name, int create, struct reg *r)
{
    int dfd = shm_dir();

    if (dfd < 0)
        return mmf__fail(MMF_ENOTSUP, errno);
    memset(r, 0, sizeof *r);
    r->kind = kind;
    snprintf(r->base, sizeof r->base, "%s", base_name(name));
    reg_file_name(kind, r->base, r->file);
    for (int tries = 0; tries < 1000; tries++) {
        struct stat a, b;
        int fd, rc;

        r->mine = 0;
        fd = -1;
        if (create) {
            fd = openat(dfd, r->file,
                        O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        0600);
            r->mine = fd >= 0;
        }
        if (fd < 0 && (!create || errno == EEXIST)) {
            fd = openat(dfd, r->file,
                        O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            if (fd < 0 && errno == EACCES)
                fd = openat(dfd, r->file,
                            O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            if (fd < 0 && errno == ENOENT && create)
                continue; /* removed meanwhile: create it */
        }
        if (fd < 0) {
            int e = errno;
            if (e == ELOOP || e == EMLINK) /* a planted symlink */
                return mmf__fail(MMF_EACCES, e);
            return mmf__fail(mmf__error_from_os(e), e);
        }
        if (fstat(fd, &a) != 0 || !S_ISREG(a.st_mode)) {
            int e = errno;
            close(fd);
            return mmf__fail(MMF_EFORMAT, S_ISREG(a.st_mode) ? e : 0);
        }
        /* Created 0600 whatever the umask. */
        if (r->mine && (a.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
            int e = errno;
            (void)unlinkat(dfd, r->file, 0);
            close(fd);
            return mmf__fail(mmf__error_from_os(e), e);
        }
        while (flock(fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                int e = errno;
                close(fd);
                return mmf__fail(mmf__error_from_os(e), e);
            }
        }
        /* Still the registration under this name? */
        if (fstatat(dfd, r->file, &b, AT_SYMLINK_NOFOLLOW) != 0 ||
            a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
            close(fd);
            continue;
        }
        r->fd = fd;
        rc = read_record(r);
        if (rc != MMF_OK) {
            close(fd);
            r->fd = -1;
            return rc;
        }
        return MMF_OK;
    }
    return mmf__fail(MMF_EBUSY, 0);
}

/* Removes the registration file (caller holds the admin lock). */
static void reg_remove(struct reg *r)
{
    (void)unlinkat(shm_dir(), r->file, 0);
}

static void reg_close(struct reg *r)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
}

/* Does the data object under the base name have the recorded identity? */
static int data_matches(struct reg *r)
{
    struct stat st;

    if (fstatat(shm_dir(), r->base, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return 0;
    if (r->rec.state == STATE_CREATING && r->rec.ino == 0)
        return 1; /* its creator died before recording it */
    return (uint64_t)st.st_dev == r->rec.dev &&
           (uint64_t)st.st_ino == r->rec.ino;
}

/* Removes what a stale record left (its shared-memory data) and clears the
 * record. Only called with no holder left. */
static void clear_stale(struct reg *r)
{
    if (r->have && r->rec.kind == REC_SHM && data_matches(r))
        (void)unlinkat(shm_dir(), r->base, 0);
    if (ftruncate(r->fd, 0) == 0)
        r->have = 0;
    r->mine = 1;
    memset(&r->rec, 0, sizeof r->rec);
}

/* ---- the data of non-persisted maps ---- */

static int data_open(const char *base, int writable, uint64_t *size,
                     struct stat *st)
{
    int fd = openat(shm_dir(), base,
                    (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW |
                        O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        int e = S_ISREG(st->st_mode) ? errno : EINVAL;
        close(fd);
        errno = e;
        return -1;
    }
    *size = (uint64_t)st->st_size;
    return fd;
}

static int is_read_only(int access)
{
    return access == MMF_ACCESS_READ || access == MMF_ACCESS_READ_EXECUTE ||
           access == MMF_ACCESS_COPY_ON_WRITE;
}

/* Execute access can be refused by the mount (noexec): find out now. */
static int exec_probe(int fd, int access)
{
    if (access != MMF_ACCESS_READ_EXECUTE &&
        access != MMF_ACCESS_READ_WRITE_EXECUTE)
        return MMF_OK;
    return mmf__os_probe(fd, MMF__KIND_SHM, access);
}

/* Opens the data of a live record for `access` and fills `out`. */
static int open_live(struct reg *r, int access, mmf__named *out)
{
    int writable = !is_read_only(access);
    struct stat st;
    uint64_t size;
    int fd, rc;

    if (!mmf__access_allows(r->rec.access, access))
        return mmf__fail(MMF_EACCES, 0);
    if (r->rec.kind == REC_FILE) {
        fd = open(r->rec.path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC |
                                   O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            return os_fail();
        if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != r->rec.dev ||
            (uint64_t)st.st_ino != r->rec.ino) {
            close(fd);
            return mmf__fail(MMF_ENOENT, 0); /* moved or replaced */
        }
        out->kind = MMF__KIND_FILE;
        if (mmf__strdup(r->rec.path, &out->path) != MMF_OK) {
            close(fd);
            return MMF_ENOMEM;
        }
    } else {
        fd = data_open(r->base, writable, &size, &st);
        if (fd < 0)
            return os_fail();
        if ((uint64_t)st.st_dev != r->rec.dev ||
            (uint64_t)st.st_ino != r->rec.ino) {
            close(fd);
            return mmf__fail(MMF_ENOENT, 0);
        }
        out->kind = MMF__KIND_SHM;
    }
    rc = exec_probe(fd, access);
    if (rc != MMF_OK) {
        close(fd);
        free(out->path);
        out->path = NULL;
        return rc;
    }
    out->handle = fd;
    out->capacity = r->rec.capacity;
    out->created = 0;
    return MMF_OK;
}

/* Opens a shared-memory object libmmf did not create ("foreign"). */
static int open_foreign(const char *base, int access, mmf__named *out)
{
    struct stat st;
    uint64_t size;
    int fd = data_open(base, !is_read_only(access), &size, &st);

    if (fd < 0)
        return os_fail();
    if (size == 0) {
        close(fd);
        return mmf__fail(MMF_EFORMAT, 0); /* nothing to map */
    }
    if (exec_probe(fd, access) != MMF_OK) {
        close(fd);
        return MMF_EACCES;
    }
    out->handle = fd;
    out->reg = MMF_INVALID_HANDLE;
    out->capacity = size;
    out->kind = MMF__KIND_SHM;
    out->created = 0;
    return MMF_OK;
}

static int foreign_exists(const char *base)
{
    struct stat st;
    return fstatat(shm_dir(), base, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Becomes a holder through our own open file description of the
 * registration (never a shared one), then releases the admin lock. */
static int become_holder(struct reg *r, unsigned flags, mmf_handle *reg_out)
{
    /* The description this call opened and flocked becomes the holder's:
     * one per handle, never shared with another handle. */
    if (set_hold(r->fd, F_RDLCK) != 0) {
        int e = errno;
        return mmf__fail(mmf__error_from_os(e), e);
    }
    if ((flags & MMF_OPT_INHERITABLE) &&
        mmf__os_set_inheritable(r->fd, 1) != MMF_OK) {
        (void)set_hold(r->fd, F_UNLCK);
        return mmf__fail(MMF_EIO, errno);
    }
    admin_unlock(r->fd);
    *reg_out = r->fd;
    r->fd = -1; /* handed over: reg_close leaves it open */
    return MMF_OK;
}

/* Creates the data object and the live record (admin lock held, no live
 * object under the name). */
static int create_data(struct reg *r, uint64_t capacity, int access,
                       unsigned flags, mmf__named *out)
{
    struct stat st;
    int fd, rc;

    r->rec.state = STATE_CREATING;
    r->rec.kind = REC_SHM;
    r->rec.access = access;
    r->rec.flags = flags & MMF_OPT_KEEP_NAME;
    r->rec.capacity = capacity;
    r->rec.dev = r->rec.ino = 0;
    rc = write_record(r);
    if (rc != MMF_OK)
        return rc;
    fd = openat(shm_dir(), r->base,
                O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int e = errno;
        (void)ftruncate(r->fd, 0);
        r->have = 0;
        if (e == EEXIST)
            return mmf__fail(MMF_EEXIST, e);
        return mmf__fail(mmf__error_from_os(e), e);
    }
    if (fstat(fd, &st) != 0 ||
        ((st.st_mode & 07777) != 0600 && mmf__sys_fchmod(fd, 0600) != 0) ||
        mmf__sys_ftruncate(fd, (off_t)capacity) != 0 ||
        (!(flags & MMF_OPT_DELAY_ALLOCATE) &&
         mmf__sys_fallocate(fd, 0, 0, (off_t)capacity) != 0 &&
         errno != EOPNOTSUPP)) {
        int e = errno;
        (void)unlinkat(shm_dir(), r->base, 0);
        close(fd);
        (void)ftruncate(r->fd, 0);
        r->have = 0;
        if (e == EFBIG || e == EINVAL)
            return mmf__fail(MMF_ERANGE, e);
        if (e == ENOMEM)
            return mmf__fail(MMF_ENOSPC, e);
        return mmf__fail(mmf__error_from_os(e), e);
    }
    r->rec.dev = (uint64_t)st.st_dev;
    r->rec.ino = (uint64_t)st.st_ino;
    r->rec.state = STATE_LIVE;
    rc = exec_probe(fd, access);
    if (rc == MMF_OK)
        rc = write_record(r);
    if (rc != MMF_OK) {
        (void)unlinkat(shm_dir(), r->base, 0);
        close(fd);
        (void)ftruncate(r->fd, 0);
        r->have = 0;
        return rc;
    }
    out->handle = fd;
    out->capacity = capacity;
    out->kind = MMF__KIND_SHM;
    out->created = 1;
    return MMF_OK;
}

static void named_init(mmf__named *out)
{
    memset(out, 0, sizeof *out);
    out->handle = MMF_INVALID_HANDLE;
    out->reg = MMF_INVALID_HANDLE;
}

static void named_undo(mmf__named *out)
{
    if (out->handle != MMF_INVALID_HANDLE)
        close((int)out->handle);
    free(out->path);
    named_init(out);
}

/* Finishes a create/open under the admin lock: become a holder, or undo. */
static int finish(struct reg *r, int rc, unsigned flags, mmf__named *out)
{
    if (rc == MMF_OK && out->reg == MMF_INVALID_HANDLE && r->have) {
        rc = become_holder(r, flags, &out->reg);
        if (rc != MMF_OK && out->created) {
            (void)unlinkat(shm_dir(), r->base, 0);
            (void)ftruncate(r->fd, 0);
            r->have = 0;
        }
    }
    if (rc != MMF_OK)
        named_undo(out);
    /* Nothing registered: leave no file behind, unless it is a fresh one
     * some creator is about to fill. */
    if (!r->have && r->mine)
        reg_remove(r);
    admin_unlock(r->fd);
    reg_close(r);
    return rc;
}

int mmf__os_named_create(const char *name, uint64_t capacity, int access,
                         unsigned flags, int or_open, mmf__named *out)
{
    struct reg r;
    int rc;

    named_init(out);
    rc = reg_open(REC_SHM, name, 1, &r);
    if (rc != MMF_OK)
        return rc;
    if (is_live(&r)) {
        if (!or_open)
            rc = mmf__fail(MMF_EEXIST, 0);
        else
            rc = open_live(&r, access, out);
        return finish(&r, rc, flags, out);
    }
    if (r.have)
        clear_stale(&r);
    if (foreign_exists(r.base)) {
        /* A shared-memory object some other program made: never ours to
         * replace. */
        rc = or_open ? open_foreign(r.base, access, out)
                     : mmf__fail(MMF_EEXIST, EEXIST);
        return finish(&r, rc, flags, out);
    }
    rc = create_data(&r, capacity, access, flags, out);
    return finish(&r, rc, flags, out);
}

/*
 * No registration under the name: a shared-memory object there is foreign,
 * unless a libmmf creator or closer is at work. Creators make the
 * registration before the data, and closers remove the data before the
 * registration; so data opened first, then found still linked after the
 * registration was found absent, cannot be libmmf's.
 */
#define RETRY 1 /* internal: start over */

static int open_unregistered(const char *name, int access, mmf__named *out)
{
    const char *base = base_name(name);
    char file[256];
    struct stat st;
    int rc;

    if (shm_dir() < 0 || !foreign_exists(base))
        return mmf__fail(MMF_ENOENT, ENOENT);
    rc = open_foreign(base, access, out);
    reg_file_name(REC_SHM, base, file);
    if (fstatat(shm_dir(), file, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        /* A libmmf object being created (its data may still be empty):
         * look again, through its registration this time. */
        if (rc == MMF_OK)
            named_undo(out);
        return RETRY;
    }
    if (rc != MMF_OK)
        return rc;
    if (fstat((int)out->handle, &st) != 0 || st.st_nlink == 0) {
        /* Removed meanwhile: gone. */
        named_undo(out);
        return mmf__fail(MMF_ENOENT, 0);
    }
    return MMF_OK;
}

int mmf__os_named_open(const char *name, int access, unsigned flags,
                       mmf__named *out)
{
    struct reg r;
    int rc;

    named_init(out);
    for (int tries = 0;; tries++) {
        rc = reg_open(REC_SHM, name, 0, &r);
        if (rc != MMF_ENOENT)
            break;
        rc = open_unregistered(name, access, out);
        if (rc != RETRY || tries == 100)
            return rc == RETRY ? mmf__fail(MMF_EBUSY, 0) : rc;
    }
    if (rc != MMF_OK)
        return rc;
    if (is_live(&r)) {
        rc = open_live(&r, access, out);
        return finish(&r, rc, flags, out);
    }
    if (r.have)
        clear_stale(&r);
    rc = foreign_exists(r.base) ? open_foreign(r.base, access, out)
                                : mmf__fail(MMF_ENOENT, ENOENT);
    return finish(&r, rc, flags, out);
}

int mmf__os_unlink(const char *name)
{
    struct reg r;
    int rc = reg_open(REC_SHM, name, 0, &r);

    if (rc == MMF_ENOENT) {
        if (shm_dir() >= 0 && foreign_exists(base_name(name)))
            return mmf__fail(MMF_EFORMAT, 0);
        return rc;
    }
    if (rc != MMF_OK)
        return rc;
    if (!is_live(&r)) {
        clear_stale(&r);
        rc = foreign_exists(r.base) ? mmf__fail(MMF_EFORMAT, 0)
                                    : mmf__fail(MMF_ENOENT, ENOENT);
    } else {
        /* Holders keep their memory; the name is free from now on. */
        if (r.rec.kind == REC_SHM && data_matches(&r) &&
            unlinkat(shm_dir(), r.base, 0) != 0)
            rc = os_fail();
        if (rc == MMF_OK) {
            (void)ftruncate(r.fd, 0);
            r.have = 0;
        }
    }
    if (!r.have)
        reg_remove(&r);
    admin_unlock(r.fd);
    reg_close(&r);
    return rc;
}

/* ---- persisted named maps ---- */

int mmf__os_reg_reserve(const char *name, void **token)
{
    struct reg *r = malloc(sizeof *r);
    int rc;

    if (r == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    rc = reg_open(REC_SHM, name, 1, r);
    if (rc != MMF_OK) {
        free(r);
        return rc;
    }
    if (is_live(r) || (!r->have && foreign_exists(r->base))) {
        if (!r->have && r->mine)
            reg_remove(r);
        admin_unlock(r->fd);
        reg_close(r);
        free(r);
        return mmf__fail(MMF_EEXIST, 0);
    }
    if (r->have)
        clear_stale(r);
    *token = r;
    return MMF_OK;
}

void mmf__os_reg_cancel(void *token)
{
    struct reg *r = token;

    if (r == NULL)
        return;
    if (r->have) {
        (void)ftruncate(r->fd, 0);
        r->have = 0;
    }
    reg_remove(r);
    admin_unlock(r->fd);
    reg_close(r);
    free(r);
}

int mmf__os_reg_publish(void *token, mmf_file *f)
{
    struct reg *r = token;
    char *abs = NULL;
    struct stat st;
    int rc;

    if (fstat((int)f->handle, &st) != 0) {
        rc = os_fail();
        goto out;
    }
    if (f->path != NULL) {
        abs = realpath(f->path, NULL);
        if (abs == NULL) {
            rc = os_fail();
            goto out;
        }
    } else {
        /* From a handle: its path, as the kernel names it. */
        char link[64], target[PATH_MAX];
        ssize_t n;
        snprintf(link, sizeof link, "/proc/self/fd/%d", (int)f->handle);
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0 || target[0] != '/') {
            rc = mmf__fail(MMF_ENOTSUP, n < 0 ? errno : 0);
            goto out;
        }
        target[n] = '\0';
        abs = strdup(target);
        if (abs == NULL) {
            rc = mmf__fail(MMF_ENOMEM, 0);
            goto out;
        }
    }
    if (strlen(abs) >= sizeof r->rec.path) {
        rc = mmf__fail(MMF_ENAMETOOLONG, 0);
        goto out;
    }
    memset(&r->rec, 0, sizeof r->rec);
    r->rec.state = STATE_LIVE;
    r->rec.kind = REC_FILE;
    r->rec.access = f->access;
    r->rec.capacity = f->capacity;
    r->rec.dev = (uint64_t)st.st_dev;
    r->rec.ino = (uint64_t)st.st_ino;
    snprintf(r->rec.path, sizeof r->rec.path, "%s", abs);
    rc = write_record(r);
    if (rc == MMF_OK)
        rc = become_holder(r, f->flags, &f->holder.fd);
    if (rc == MMF_OK) {
        admin_unlock(r->fd);
        reg_close(r);
        free(r);
        free(abs);
        f->holder.kind = REC_SHM;
        mmf__os_reg_track(&f->holder);
        return MMF_OK;
    }
out:
    free(abs);
    mmf__os_reg_cancel(r);
    return rc;
}

static int is_tracked(int fd);

/*
 * A process started with an inherited handle of a named map also inherited
 * its creator's registration descriptor (that is what kept the object alive
 * for it until now). Once it attaches with a holder of its own, that
 * inherited descriptor must go, or the object would outlive every handle
 * for as long as this process runs.
 */
static void adopt_inherited(int holder_fd, int data_fd)
{
    struct stat want, st;
    struct dirent *e;
    DIR *d;

    if (fstat(holder_fd, &want) != 0 || (d = opendir("/proc/self/fd")) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == data_fd ||
            fd == holder_fd || fd == dirfd(d) || fstat(fd, &st) != 0 ||
            st.st_dev != want.st_dev || st.st_ino != want.st_ino ||
            is_tracked(fd))
            continue;
        /* The creator keeps its own reference; ours is redundant now. */
        close(fd);
    }
    closedir(d);
}

int mmf__os_reg_attach(mmf_handle h, mmf_handle *reg, uint64_t *capacity)
{
    char link[64], target[PATH_MAX];
    const char *prefix = SHM_DIR "/";
    struct stat st;
    struct reg r;
    ssize_t n;
    int rc;

    *reg = MMF_INVALID_HANDLE;
    snprintf(link, sizeof link, "/proc/self/fd/%d", (int)h);
    n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return MMF_OK;
    target[n] = '\0';
    if (strncmp(target, prefix, strlen(prefix)) != 0 ||
        strchr(target + strlen(prefix), '/') != NULL ||
        mmf__check_name(target + strlen(prefix)) != MMF_OK ||
        fstat((int)h, &st) != 0)
        return MMF_OK; /* not a (linked) libmmf object: no lifetime */
    rc = reg_open(REC_SHM, target + strlen(prefix), 0, &r);
    if (rc != MMF_OK)
        return MMF_OK;
    if (is_live(&r) && r.rec.kind == REC_SHM &&
        r.rec.dev == (uint64_t)st.st_dev && r.rec.ino == (uint64_t)st.st_ino) {
        rc = become_holder(&r, 0, reg);
        if (rc == MMF_OK) {
            *capacity = r.rec.capacity;
            adopt_inherited((int)*reg, (int)h);
        }
    }
    admin_unlock(r.fd);
    reg_close(&r);
    return rc;
}

/* ---- holders across fork, and release ---- */

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static mmf__holder *tracked;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/*
 * fork() shares each registration description between parent and child,
 * so neither could see the other as a holder. Before the fork, each holder
 * gets a second description with its own holder lock; the parent drops it
 * after the fork and the child puts it under the holder's number. The lock
 * exists before fork() returns, so a parent that closes at once still sees
 * its child holding. Only async-signal-safe calls in the child.
 */
static void before_fork(void)
{
    pthread_mutex_lock(&list_lock);
    for (mmf__holder *h = tracked; h; h = h->next) {
        char self[64];

        snprintf(self, sizeof self, "/proc/self/fd/%d", (int)h->fd);
        h->fork_fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (h->fork_fd >= 0 && lock_byte(h->fork_fd, F_RDLCK, 0) != 0) {
            close(h->fork_fd);
            h->fork_fd = -1;
        }
    }
}

static void after_fork_parent(void)
{
    for (mmf__holder *h = tracked; h; h = h->next) {
        if (h->fork_fd >= 0)
            close(h->fork_fd);
        h->fork_fd = -1;
    }
    pthread_mutex_unlock(&list_lock);
}

static void after_fork_child(void)
{
    for (mmf__holder *h = tracked; h; h = h->next) {
        int fl = fcntl((int)h->fd, F_GETFD);

        if (h->fork_fd < 0)
            continue;
        if (dup2(h->fork_fd, (int)h->fd) >= 0) {
            (void)fcntl((int)h->fd, F_SETFD, fl < 0 ? FD_CLOEXEC : fl);
            (void)lock_byte((int)h->fd, F_RDLCK, (off_t)getpid() + 1);
        }
        close(h->fork_fd);
        h->fork_fd = -1;
    }
    pthread_mutex_unlock(&list_lock);
}

static void install_fork_handler(void)
{
    (void)pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void mmf__os_reg_track(mmf__holder *h)
{
    pthread_once(&fork_once, install_fork_handler);
    pthread_mutex_lock(&list_lock);
    h->prev = NULL;
    h->next = tracked;
    if (tracked)
        tracked->prev = h;
    tracked = h;
    pthread_mutex_unlock(&list_lock);
}

static int is_tracked(int fd)
{
    int found = 0;

    pthread_mutex_lock(&list_lock);
    for (mmf__holder *h = tracked; h && !found; h = h->next)
        found = h->fd == fd;
    pthread_mutex_unlock(&list_lock);
    return found;
}

static void untrack(mmf__holder *h)
{
    pthread_mutex_lock(&list_lock);
    if (h->prev)
        h->prev->next = h->next;
    else if (tracked == h)
        tracked = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->next = h->prev = NULL;
    pthread_mutex_unlock(&list_lock);
}

/* Drops a holder: under the admin lock, releases its holder lock and, if
 * no holder is left and the name is not kept, removes the object. Returns
 * whether the object was removed. */
static int release_holder(mmf__holder *h, const char *name)
{
    int fd = (int)h->fd, removed = 0;
    struct stat a, b;
    struct reg r;

    untrack(h);
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        ;
    memset(&r, 0, sizeof r);
    r.fd = fd;
    r.kind = h->kind;
    if (name != NULL) {
        snprintf(r.base, sizeof r.base, "%s", base_name(name));
    } else if (pread(fd, &r.rec, sizeof r.rec, 0) == (ssize_t)sizeof r.rec) {
        /* Attached through a handle: the record names the object. */
        memcpy(r.base, r.rec.name, sizeof r.base - 1);
    }
    reg_file_name(h->kind, r.base, r.file);
    /* Only act on the registration still published under the name. */
    if (r.base[0] && fstat(fd, &a) == 0 &&
        fstatat(shm_dir(), r.file, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
        read_record(&r) == MMF_OK && r.have) {
        (void)set_hold(fd, F_UNLCK);
        if (!(r.rec.flags & MMF_OPT_KEEP_NAME) && !other_holders(fd)) {
            if (r.rec.kind == REC_SHM && data_matches(&r))
                (void)unlinkat(shm_dir(), r.base, 0);
            reg_remove(&r);
            removed = 1;
        }
    }
    /* Drop both locks explicitly: a mapping made through this description
     * (a mutex's) would keep it, and its locks, alive past close(). */
    {
        struct flock l;
        memset(&l, 0, sizeof l);
        l.l_type = F_UNLCK;
        l.l_whence = SEEK_SET;
        (void)fcntl(fd, F_OFD_SETLK, &l); /* l_len 0: the whole file */
    }
    admin_unlock(fd);
    close(fd);
    h->fd = MMF_INVALID_HANDLE;
    return removed;
}

void mmf__os_reg_release(mmf__holder *h, const char *name)
{
    (void)release_holder(h, name);
}

int mmf__os_reg_set_inheritable(mmf_handle reg, int inheritable)
{
    return mmf__os_set_inheritable(reg, inheritable);
}

int mmf__os_reg_set_permissions(mmf_handle reg, unsigned mode)
{
    return mmf__os_set_permissions(reg, mode);
}

/* ---- named mutexes ----
 *
 * The mutex lives in its registration file (".mmf-mtx.N"): the record,
 * then, at MUTEX_OFFSET, a versioned header and a process-shared, robust,
 * recursive pthread mutex. Each process maps that page once per mutex and
 * shares the mapping between its handles, keeping it while any handle is
 * open or any of its threads holds the lock: the kernel finds a dead
 * owner's robust mutexes through their addresses, so the page must stay
 * mapped under a held mutex.
 */

#define MUTEX_OFFSET 8192
#define MUTEX_FILE_SIZE (MUTEX_OFFSET + 4096)
#define MUTEX_MAGIC 0x584d4d46u /* "FMMX" */

struct shared_mutex {
    uint32_t magic;
    uint32_t version;
    uint32_t signature;
    uint32_t reserved;
    pthread_mutex_t mutex;
};

/* The thread id of a mutex's owner, from glibc's lock word (its layout is
 * part of glibc's ABI); 0 if free, -1 where the C library does not tell.
 * Read on close only: the lock and unlock paths keep no books of their own. */
static int owner_tid(pthread_mutex_t *m)
{
#ifdef __GLIBC__
    return (int)(*(volatile unsigned *)&m->__data.__lock & 0x3fffffffu);
#else
    (void)m;
    return -1;
#endif
}

/* Does a live thread of this process hold the mutex (or can we not tell)?
 * Its mapping must then stay, for the kernel's robust-list walk. */
static int held_here(pthread_mutex_t *m)
{
    int tid = owner_tid(m);

    if (tid <= 0)
        return tid < 0;
    return syscall(SYS_tgkill, (long)getpid(), (long)tid, 0L) == 0;
}

/* One per mutex per process. */
struct mutex_map {
    uint64_t dev, ino;
    struct shared_mutex *shared;
    atomic_int handles; /* open handles using this mapping */
    struct mutex_map *next;
};

struct mmf_mutex {
    mmf__mutex_head head; /* first: read by the core */
    mmf__holder holder;   /* fd MMF_INVALID_HANDLE for an unnamed mutex */
    struct mutex_map *map;
    pthread_mutex_t *m;
    pthread_mutex_t local; /* unnamed mutex */
};

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mutex_map *maps;

static int init_mutex(pthread_mutex_t *m, int shared)
{
    pthread_mutexattr_t a;
    int r = pthread_mutexattr_init(&a);

    if (r == 0 && shared)
        r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (r == 0)
        r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (r == 0)
        r = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    if (r == 0)
        r = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return r;
}

/* Finds or makes this process's mapping of the mutex in r->fd. */
static int map_mutex(struct reg *r, struct mutex_map **out)
{
    struct stat st;
    struct mutex_map *mm;
    void *p;

    if (fstat(r->fd, &st) != 0)
        return os_fail();
    pthread_mutex_lock(&maps_lock);
    for (mm = maps; mm; mm = mm->next) {
        if (mm->dev == (uint64_t)st.st_dev && mm->ino == (uint64_t)st.st_ino) {
            atomic_fetch_add(&mm->handles, 1);
            pthread_mutex_unlock(&maps_lock);
            *out = mm;
            return MMF_OK;
        }
    }
    pthread_mutex_unlock(&maps_lock);
    mm = calloc(1, sizeof *mm);
    if (mm == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
             MUTEX_OFFSET);
    if (p == MAP_FAILED) {
        int e = errno;
        free(mm);
        return mmf__fail(e == EACCES ? MMF_EACCES : mmf__error_from_os(e), e);
    }
    mm->dev = (uint64_t)st.st_dev;
    mm->ino = (uint64_t)st.st_ino;
    mm->shared = p;
    atomic_init(&mm->handles, 1);
    pthread_mutex_lock(&maps_lock);
    mm->next = maps;
    maps = mm;
    pthread_mutex_unlock(&maps_lock);
    *out = mm;
    return MMF_OK;
}

/* Drops a handle's use of a mapping; unmaps when nothing needs it. */
static void unmap_mutex(struct mutex_map *mm, int drop_handle)
{
    struct mutex_map **pp;

    pthread_mutex_lock(&maps_lock);
    if (drop_handle)
        atomic_fetch_sub(&mm->handles, 1);
    if (atomic_load(&mm->handles) > 0 || held_here(&mm->shared->mutex)) {
        pthread_mutex_unlock(&maps_lock);
        return;
    }
    for (pp = &maps; *pp; pp = &(*pp)->next) {
        if (*pp == mm) {
            *pp = mm->next;
            break;
        }
    }
    pthread_mutex_unlock(&maps_lock);
    munmap(mm->shared, 4096);
    free(mm);
}

static int mutex_new(const char *name, mmf_mutex **out)
{
    mmf_mutex *m = calloc(1, sizeof *m);

    if (m == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    m->holder.fd = MMF_INVALID_HANDLE;
    m->holder.kind = REC_MUTEX;
    if (name != NULL && mmf__strdup(name, &m->head.name) != MMF_OK) {
        free(m);
        return MMF_ENOMEM;
    }
    *out = m;
    return MMF_OK;
}

static void mutex_free(mmf_mutex *m)
{
    free(m->head.name);
    free(m);
}

/* Writes a fresh record and mutex into a registration (admin lock held,
 * no holder, file just created). */
static int init_shared(struct reg *r)
{
    struct shared_mutex *sm;
    int rc, e;

    if (ftruncate(r->fd, MUTEX_FILE_SIZE) != 0)
        return os_fail();
    memset(&r->rec, 0, sizeof r->rec);
    r->rec.state = STATE_LIVE;
    r->rec.kind = REC_MUTEX;
    r->rec.access = MMF_ACCESS_READ_WRITE;
    rc = write_record(r);
    if (rc != MMF_OK)
        return rc;
    sm = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd,
              MUTEX_OFFSET);
    if (sm == MAP_FAILED)
        return os_fail();
    e = init_mutex(&sm->mutex, 1);
    sm->magic = MUTEX_MAGIC;
    sm->version = REC_VERSION;
    sm->signature = mmf__layout_signature();
    munmap(sm, 4096);
    if (e != 0)
        return mmf__fail(MMF_ENOMEM, e);
    return MMF_OK;
}

static int check_shared(const struct shared_mutex *sm)
{
    if (sm->magic != MUTEX_MAGIC || sm->version != REC_VERSION ||
        sm->signature != mmf__layout_signature())
        return mmf__fail(MMF_EFORMAT, 0);
    return MMF_OK;
}

/* Create (or, !create, open) the named mutex. */
static int mutex_named(const char *name, int create, int initially_owned,
                       unsigned flags, mmf_mutex **out)
{
    mmf_mutex *m = NULL;
    struct reg r;
    int rc, created = 0;

    rc = mutex_new(name, &m);
    if (rc != MMF_OK)
        return rc;
    for (;;) {
        rc = reg_open(REC_MUTEX, name, create, &r);
        if (rc != MMF_OK)
            goto fail;
        if (is_live(&r))
            break;
        if (r.have || !create) {
            /* Stale (or, opening, absent): never reinitialise a file some
             * process might still map; remove it and start afresh. An
             * empty one is a creator's, about to be filled: leave it. */
            if (r.have)
                reg_remove(&r);
            admin_unlock(r.fd);
            reg_close(&r);
            if (!create) {
                rc = mmf__fail(MMF_ENOENT, ENOENT);
                goto fail;
            }
            continue;
        }
        rc = init_shared(&r);
        if (rc != MMF_OK) {
            reg_remove(&r);
            admin_unlock(r.fd);
            reg_close(&r);
            goto fail;
        }
        created = 1;
        break;
    }
    if (r.rec.kind != REC_MUTEX)
        rc = mmf__fail(MMF_EFORMAT, 0);
    if (rc == MMF_OK)
        rc = map_mutex(&r, &m->map);
    if (rc == MMF_OK) {
        rc = check_shared(m->map->shared);
        if (rc != MMF_OK)
            unmap_mutex(m->map, 1);
    }
    if (rc == MMF_OK) {
        rc = become_holder(&r, flags, &m->holder.fd);
        if (rc != MMF_OK)
            unmap_mutex(m->map, 1);
    }
    if (rc != MMF_OK && created)
        reg_remove(&r);
    admin_unlock(r.fd);
    reg_close(&r);
    if (rc != MMF_OK)
        goto fail;
    m->m = &m->map->shared->mutex;
    m->head.created = created;
    mmf__os_reg_track(&m->holder);
    *out = m;
    if (created && initially_owned) {
        rc = mmf__os_mutex_lock(m, MMF_WAIT_FOREVER, 0);
        if (rc != MMF_OK && rc != MMF_EOWNERDEAD) {
            (void)mmf__os_mutex_close(m);
            *out = NULL;
            return rc;
        }
    }
    return MMF_OK;
fail:
    mutex_free(m);
    return rc;
}

int mmf__os_mutex_create(const char *name, int initially_owned, unsigned flags,
                         mmf_mutex **out)
{
    mmf_mutex *m = NULL;
    int rc, e;

    if (name != NULL)
        return mutex_named(name, 1, initially_owned, flags, out);
    rc = mutex_new(NULL, &m);
    if (rc != MMF_OK)
        return rc;
    e = init_mutex(&m->local, 0);
    if (e != 0) {
        mutex_free(m);
        return mmf__fail(MMF_ENOMEM, e);
    }
    m->m = &m->local;
    m->head.created = 1;
    *out = m;
    if (initially_owned)
        (void)mmf__os_mutex_lock(m, MMF_WAIT_FOREVER, 0);
    return MMF_OK;
}

int mmf__os_mutex_open(const char *name, mmf_mutex **out)
{
    return mutex_named(name, 0, 0, 0, out);
}

/* The MMF_* answer to a pthread lock call's result r. */
__attribute__((noinline)) static int lock_result(mmf_mutex *m, int r)
{
    switch (r) {
    case 0:
        return MMF_OK;
    case EOWNERDEAD:
        /* The caller owns it now; make it usable again. */
        (void)pthread_mutex_consistent(m->m);
        return mmf__fail(MMF_EOWNERDEAD, r);
    case EBUSY:
        return mmf__fail(MMF_EBUSY, r);
    case ETIMEDOUT:
        return mmf__fail(MMF_ETIMEDOUT, r);
    case EAGAIN: /* recursion limit */
        return mmf__fail(MMF_EBUSY, r);
    default:
        return mmf__fail(MMF_EIO, r);
    }
}

/* Trying, or waiting with a deadline. */
__attribute__((noinline)) static int
lock_slow(mmf_mutex *m, uint32_t timeout_ms, int try_only)
{
    int r;

    if (try_only) {
        r = pthread_mutex_trylock(m->m);
    } else if (timeout_ms == MMF_WAIT_FOREVER) {
        r = pthread_mutex_lock(m->m);
    } else if (timeout_ms == 0) {
        r = pthread_mutex_trylock(m->m);
        if (r == EBUSY)
            r = ETIMEDOUT;
    } else {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_sec += timeout_ms / 1000;
        t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        /* An absolute deadline on the monotonic clock: retries after a
         * signal wait only for what is left. */
        r = pthread_mutex_clocklock(m->m, CLOCK_MONOTONIC, &t);
    }
    return lock_result(m, r);
}

int mmf__os_mutex_lock(mmf_mutex *m, uint32_t timeout_ms, int try_only)
{
    /* The common case with nothing to set up around the call; the rest
     * out of line. */
    if (timeout_ms == MMF_WAIT_FOREVER && !try_only) {
        int r = pthread_mutex_lock(m->m);
        if (__builtin_expect(r == 0, 1))
            return MMF_OK;
        return lock_result(m, r);
    }
    return lock_slow(m, timeout_ms, try_only);
}

int mmf__os_mutex_unlock(mmf_mutex *m)
{
    int r = pthread_mutex_unlock(m->m);

    if (__builtin_expect(r == 0, 1))
        return MMF_OK;
    return mmf__fail(r == EPERM ? MMF_EPERM : MMF_EIO, r);
}

int mmf__os_mutex_close(mmf_mutex *m)
{
    if (m->map != NULL) {
        (void)release_holder(&m->holder, m->head.name);
        unmap_mutex(m->map, 1);
    } else {
        /* An unnamed mutex is only this handle. A held one stays held by
         * its thread, as on Windows; its memory must then stay too, since
         * the thread's robust-mutex list points into it. Unless that
         * thread is gone: then nobody can reach it any more. */
        if (held_here(&m->local))
            return MMF_OK;
        if (owner_tid(&m->local) != 0) {
            int r = pthread_mutex_trylock(&m->local);
            if (r == EOWNERDEAD)
                (void)pthread_mutex_consistent(&m->local);
            else if (r != 0)
                return MMF_OK;
            (void)pthread_mutex_unlock(&m->local);
        }
        pthread_mutex_destroy(&m->local);
    }
    mutex_free(m);
    return MMF_OK;
}

int mmf__os_mutex_set_permissions(mmf_mutex *m, unsigned mode)
{
    if (m->map == NULL)
        return MMF_OK; /* unnamed: nothing to protect */
    return mmf__os_set_permissions(m->holder.fd, mode);
}

int mmf__os_mutex_get_permissions(const mmf_mutex *m, unsigned *mode)
{
    if (m->map == NULL) {
        *mode = 0600;
        return MMF_OK;
    }
    return mmf__os_get_permissions(m->holder.fd, mode);
}

/* ---- inspection (mmf_stat, mmf_list): reads only, locks nothing ---- */

/* Counts the processes holding the registration with inode (dev, ino):
 * the distinct "1 + pid" bytes read-locked on it in /proc/locks. */
static int count_holders(dev_t dev, ino_t ino)
{
    char want[64], line[256];
    long pids[256];
    int n = 0;
    FILE *fp = fopen("/proc/locks", "re");

    if (fp == NULL)
        return -1;
    snprintf(want, sizeof want, "%02x:%02x:%llu", major(dev), minor(dev),
             (unsigned long long)ino);
    while (fgets(line, sizeof line, fp) != NULL) {
        char kind[16], type[16], id[64];
        long long start;
        int known = 0;

        if (strstr(line, "->") != NULL) /* a waiter, not a holder */
            continue;
        if (sscanf(line, "%*d: %15s %*s %15s %*s %63s %lld", kind, type, id,
                   &start) != 4 ||
            strcmp(kind, "OFDLCK") != 0 || strcmp(type, "READ") != 0 ||
            strcmp(id, want) != 0 || start < 1)
            continue;
        for (int i = 0; i < n && !known; i++)
            known = pids[i] == start - 1;
        if (!known && n < (int)(sizeof pids / sizeof *pids))
            pids[n++] = (long)(start - 1);
    }
    fclose(fp);
    return n;
}

/* Fills `out` from the registration file `file` (kind REC_SHM or
 * REC_MUTEX). MMF_ENOENT when there is nothing live or stale to show. */
static int stat_registration(int kind, const char *file, const char *base,
                             mmf_info *out)
{
    int dfd = shm_dir(), fd;
    struct stat rst, dst;
    struct record rec;
    int have_rec = 0, have_data;

    if (fstatat(dfd, file, &rst, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(rst.st_mode) || rst.st_size == 0) /* empty: being made */
        return mmf__fail(MMF_ENOENT, ENOENT);
    fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd >= 0) {
        have_rec = pread(fd, &rec, sizeof rec, 0) == (ssize_t)sizeof rec &&
                   rec.magic == REC_MAGIC && rec.version == REC_VERSION &&
                   rec.size == sizeof rec;
        close(fd);
    }
    memset(out, 0, sizeof *out);
    if (have_rec) {
        if (rec.state != STATE_LIVE)
            return mmf__fail(MMF_ENOENT, 0); /* being created or cleared */
        memcpy(out->name, rec.name, sizeof out->name - 1);
    } else {
        snprintf(out->name, sizeof out->name, "%s", base);
    }
    out->holders = count_holders(rst.st_dev, rst.st_ino);
    out->owner = (int64_t)rst.st_uid;
    out->mode = (unsigned)rst.st_mode & 0777u;
    if (kind == REC_MUTEX) {
        out->kind = MMF_KIND_MUTEX;
    } else if (have_rec && rec.kind == REC_FILE) {
        struct stat fst;
        out->kind = MMF_KIND_FILE_MAP;
        out->capacity = rec.capacity;
        snprintf(out->path, sizeof out->path, "%s", rec.path);
        if (stat(rec.path, &fst) == 0)
            out->mode = (unsigned)fst.st_mode & 0777u;
    } else {
        have_data = fstatat(dfd, out->name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        out->kind = have_data || !have_rec ? MMF_KIND_MAP : MMF_KIND_FILE_MAP;
        out->capacity = have_rec    ? rec.capacity
                        : have_data ? (uint64_t)dst.st_size
                                    : 0;
        if (have_data) {
            out->mode = (unsigned)dst.st_mode & 0777u;
            out->owner = (int64_t)dst.st_uid;
        }
    }
    out->stale =
        out->holders == 0 && !(have_rec && (rec.flags & MMF_OPT_KEEP_NAME));
    return MMF_OK;
}

static int stat_foreign(const char *base, mmf_info *out)
{
    struct stat st;

    if (fstatat(shm_dir(), base, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
        return mmf__fail(MMF_ENOENT, ENOENT);
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", base);
    out->kind = MMF_KIND_FOREIGN;
    out->capacity = (uint64_t)st.st_size;
    out->mode = (unsigned)st.st_mode & 0777u;
    out->owner = (int64_t)st.st_uid;
    out->holders = -1;
    return MMF_OK;
}

int mmf__os_stat(const char *name, int kind, mmf_info *out)
{
    char file[256];
    const char *base = base_name(name);
    int rk = kind == MMF_KIND_MUTEX ? REC_MUTEX : REC_SHM, rc;
    mmf_info tmp;

    if (shm_dir() < 0)
        return mmf__fail(MMF_ENOTSUP, errno);
    reg_file_name(rk, base, file);
    rc = stat_registration(rk, file, base, &tmp);
    if (rc == MMF_ENOENT && rk == REC_SHM)
        rc = stat_foreign(base, &tmp);
    if (rc == MMF_OK)
        *out = tmp;
    return rc;
}

int mmf__os_list(int (*fn)(const mmf_info *info, void *ctx), void *ctx)
{
    int dfd = shm_dir(), fd, rc = MMF_OK;
    DIR *d;
    struct dirent *e;

    if (dfd < 0)
        return mmf__fail(MMF_ENOTSUP, errno);
    fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return mmf__fail(mmf__error_from_os(err), err);
    }
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        mmf_info info;
        char file[256];
        int got = MMF_ENOENT;

        if (strncmp(n, ".mmf-map.", 9) == 0) {
            got = stat_registration(REC_SHM, n, n + 9, &info);
        } else if (strncmp(n, ".mmf-mtx.", 9) == 0) {
            got = stat_registration(REC_MUTEX, n, n + 9, &info);
        } else if (n[0] != '.' && mmf__check_name(n) == MMF_OK) {
            /* The data of a libmmf map is listed with its registration. */
            reg_file_name(REC_SHM, n, file);
            if (faccessat(dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
                got = stat_foreign(n, &info);
        }
        if (got == MMF_OK && fn(&info, ctx) != 0)
            break;
    }
    closedir(d);
    return rc;
}
