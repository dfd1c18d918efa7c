/* The POSIX (Linux) backend: files, shared memory, mappings, flush. */
#define _GNU_SOURCE
#include "sys_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h>
#endif

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int mmf__error_from_os(int e)
{
    switch (e) {
    case 0:
        return MMF_EIO;
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
        return MMF_ENOENT;
    case EEXIST:
        return MMF_EEXIST;
    case EACCES:
    case EPERM:
    case EROFS:
        return MMF_EACCES;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return MMF_ENOSPC;
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
        return MMF_ENOMEM;
    case ENAMETOOLONG:
        return MMF_ENAMETOOLONG;
    case EFBIG:
    case EOVERFLOW:
        return MMF_ERANGE;
    case ENODEV:
    case EISDIR:
    case ENXIO:
    case ESPIPE:
    case EOPNOTSUPP:
    case ENOSYS:
        return MMF_ENOTSUP;
    case EBUSY:
    case ETXTBSY:
        return MMF_EBUSY;
    case EBADF:
    case EINVAL:
        return MMF_EINVAL;
    default:
        return MMF_EIO;
    }
}

/* Fails with the current errno. */
static int os_fail(void)
{
    int e = errno;
    return mmf__fail(mmf__error_from_os(e), e);
}

/* Fails with the current errno, translated for storage commitment. */
static int os_fail_commit(void)
{
    int e = errno;
    if (e == EFBIG || e == EINVAL)
        return mmf__fail(MMF_ERANGE, e);
    if (e == ENOMEM)
        return mmf__fail(MMF_ENOSPC, e);
    return mmf__fail(mmf__error_from_os(e), e);
}

size_t mmf__os_page_size(void)
{
    static size_t page;
    if (page == 0) {
        long p = sysconf(_SC_PAGESIZE);
        page = p > 0 ? (size_t)p : 4096;
    }
    return page;
}

size_t mmf__os_granularity(void)
{
    return mmf__os_page_size();
}

/* ---- files ---- */

/* A name that exists as a symlink to nothing: O_EXCL refuses it and a
 * plain open finds nothing, forever. */
static int dangling(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

int mmf__os_open_file(const char *path, int mode, int writable, int may_create,
                      int inheritable, mmf_handle *out, int *created,
                      int *truncate)
{
    int base = (writable ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_NOCTTY |
               (inheritable ? 0 : O_CLOEXEC);
    int fd = -1;

    *created = 0;
    *truncate = 0;
    switch (mode) {
    case MMF_MODE_CREATE_NEW:
        fd = mmf__sys_open(path, base | O_CREAT | O_EXCL, 0666);
        *created = fd >= 0;
        break;
    case MMF_MODE_OPEN:
        fd = mmf__sys_open(path, base, 0);
        break;
    case MMF_MODE_CREATE:
    case MMF_MODE_OPEN_OR_CREATE:
        /* Tell "created" from "opened" race-free: exclusive create first
         * (CREATE) or plain open first (OPEN_OR_CREATE), and loop while
         * another process creates or removes the file under us. An
         * existing file is truncated by the caller (MMF_MODE_CREATE) once
         * it knows the mapping can be made, not here. */
        for (int tries = 0; tries < 100; tries++) {
            if (mode == MMF_MODE_OPEN_OR_CREATE) {
                fd = mmf__sys_open(path, base, 0);
                if (fd >= 0 || errno != ENOENT || !may_create)
                    break;
            }
            fd = mmf__sys_open(path, base | O_CREAT | O_EXCL, 0666);
            if (fd >= 0) {
                *created = 1;
                break;
            }
            if (errno != EEXIST)
                break;
            if (mode == MMF_MODE_CREATE) {
                fd = mmf__sys_open(path, base, 0);
                if (fd >= 0) {
                    *truncate = 1;
                    break;
                }
                if (errno != ENOENT)
                    break;
            }
            if (dangling(path)) {
                errno = ENOENT;
                break;
            }
        }
        /* OPEN_OR_CREATE that may not create (read-only access, or
         * capacity 0, which an empty new file could never satisfy). */
        if (fd < 0 && errno == ENOENT && !may_create)
            return mmf__fail(MMF_EINVAL, 0);
        break;
    default:
        return mmf__fail(MMF_EINVAL, 0);
    }
    if (fd < 0)
        return os_fail();
    *out = fd;
    return MMF_OK;
}

int mmf__os_dup_handle(mmf_handle h, int writable, int inheritable,
                       mmf_handle *out)
{
    int fl, fd;

    if (h < 0 || h > INT_MAX)
        return mmf__fail(MMF_EINVAL, 0);
    fl = fcntl((int)h, F_GETFL);
    if (fl == -1)
        return mmf__fail(MMF_EINVAL, errno);
#ifdef O_PATH
    if (fl & O_PATH)
        return mmf__fail(MMF_EACCES, 0);
#endif
    if ((fl & O_ACCMODE) == O_WRONLY ||
        (writable && (fl & O_ACCMODE) != O_RDWR))
        return mmf__fail(MMF_EACCES, 0);
    fd = mmf__sys_dup((int)h, !inheritable);
    if (fd < 0)
        return os_fail();
    *out = fd;
    return MMF_OK;
}

/* Is this regular file a shared-memory object (a memfd or under /dev/shm)?
 * Only asked of handles given by the caller. */
static int is_shm_fd(int fd)
{
#ifdef __linux__
    char link[64], target[PATH_MAX];
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strncmp(target, "/memfd:", 7) == 0 ||
           strncmp(target, "/dev/shm/", 9) == 0;
#else
    (void)fd;
    return 0;
#endif
}

int mmf__os_handle_info(mmf_handle h, int by_handle, int *kind, uint64_t *size)
{
    struct stat st;

    if (mmf__sys_fstat((int)h, &st) != 0)
        return os_fail();
    *size = 0;
    if (S_ISREG(st.st_mode)) {
        *size = (uint64_t)st.st_size;
        *kind = by_handle && is_shm_fd((int)h) ? MMF__KIND_SHM : MMF__KIND_FILE;
    } else if (S_ISCHR(st.st_mode)) {
        *kind = MMF__KIND_DEVICE;
    } else if (S_ISBLK(st.st_mode)) {
        *kind = MMF__KIND_BLOCK;
#ifdef BLKGETSIZE64
        {
            uint64_t bytes = 0;
            if (ioctl((int)h, BLKGETSIZE64, &bytes) != 0)
                return os_fail();
            *size = bytes;
        }
#else
        {
            off_t end = lseek((int)h, 0, SEEK_END);
            *size = end > 0 ? (uint64_t)end : 0;
        }
#endif
    } else {
        *kind = MMF__KIND_UNSUP;
    }
    return MMF_OK;
}

int mmf__os_grow(mmf_handle h, uint64_t old_size, uint64_t new_size,
                 int reserve)
{
    int fd = (int)h;

    if (new_size > (uint64_t)INT64_MAX)
        return mmf__fail(MMF_ERANGE, EFBIG);
    if (reserve && new_size > old_size) {
        if (mmf__sys_fallocate(fd, 0, (off_t)old_size,
                               (off_t)(new_size - old_size)) == 0)
            return MMF_OK;
        if (errno != EOPNOTSUPP && errno != ENOSYS) {
            int e = errno;
            /* Drop whatever the failed reservation added. */
            (void)mmf__sys_ftruncate(fd, (off_t)old_size);
            errno = e;
            return os_fail_commit();
        }
        /* The file system cannot reserve: plain growth, as documented. */
    }
    if (mmf__sys_ftruncate(fd, (off_t)new_size) != 0)
        return os_fail_commit();
    return MMF_OK;
}

char *mmf__os_abspath(const char *path)
{
    return realpath(path, NULL);
}

void mmf__os_remove_created(const char *path, mmf_handle h)
{
    struct stat a, b;

    if (fstat((int)h, &a) == 0 && lstat(path, &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        (void)unlink(path);
}

int mmf__os_anon_create(uint64_t size, int access, int commit, int inheritable,
                        mmf_handle *out)
{
    int fd;

    (void)access; /* a memfd can be mapped any way; the probe checks exec */
    if (size > (uint64_t)INT64_MAX)
        return mmf__fail(MMF_ERANGE, EFBIG);
    fd = mmf__sys_memfd("mmf", inheritable ? 0 : MFD_CLOEXEC);
    if (fd < 0)
        return os_fail();
    if (mmf__sys_fchmod(fd, 0600) != 0 ||
        mmf__sys_ftruncate(fd, (off_t)size) != 0 ||
        (commit && mmf__sys_fallocate(fd, 0, 0, (off_t)size) != 0 &&
         errno != EOPNOTSUPP)) {
        int e = errno;
        close(fd);
        errno = e;
        return os_fail_commit();
    }
    *out = fd;
    return MMF_OK;
}

int mmf__os_commit(mmf_handle h, uint64_t offset, uint64_t len)
{
    if (mmf__sys_fallocate((int)h, 0, (off_t)offset, (off_t)len) != 0 &&
        errno != EOPNOTSUPP && errno != ENOSYS)
        return os_fail_commit();
    return MMF_OK;
}

static int prot_of(int access)
{
    switch (access) {
    case MMF_ACCESS_READ:
        return PROT_READ;
    case MMF_ACCESS_READ_EXECUTE:
        return PROT_READ | PROT_EXEC;
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return PROT_READ | PROT_WRITE | PROT_EXEC;
    default: /* READ_WRITE, WRITE (readable, as documented), COPY_ON_WRITE */
        return PROT_READ | PROT_WRITE;
    }
}

static int map_fd(mmf_handle h, int kind, uint64_t aligned_offset, size_t len,
                  int access, void **base)
{
    int flags = access == MMF_ACCESS_COPY_ON_WRITE ? MAP_PRIVATE : MAP_SHARED;
    void *p;

    (void)kind;
    if (aligned_offset > (uint64_t)INT64_MAX)
        return mmf__fail(MMF_ERANGE, EOVERFLOW);
    p = mmf__sys_mmap(NULL, len, prot_of(access), flags, (int)h,
                      (off_t)aligned_offset);
    if (p == MAP_FAILED) {
        int e = errno;
        /* EPERM: noexec mount or sealed object; EACCES: descriptor rights */
        if (e == EPERM || e == EACCES)
            return mmf__fail(MMF_EACCES, e);
        if (e == EINVAL && len > 0)
            return mmf__fail(MMF_ENOMEM, e);
        return os_fail();
    }
    *base = p;
    return MMF_OK;
}

int mmf__os_map(mmf_file *f, uint64_t aligned_offset, size_t len, int access,
                void **base)
{
    return map_fd(f->handle, f->kind, aligned_offset, len, access, base);
}

int mmf__os_remap(mmf_view *v)
{
    int flags =
        v->head.access == MMF_ACCESS_COPY_ON_WRITE ? MAP_PRIVATE : MAP_SHARED;
    void *p = mmf__sys_mmap(v->base, v->map_len, prot_of(v->head.access),
                            flags | MAP_FIXED, (int)v->file->handle,
                            (off_t)(v->offset - v->ptr_off));
    if (p == MAP_FAILED)
        return os_fail();
    return MMF_OK;
}

int mmf__os_write_through(mmf_file *f, uint64_t offset, const void *src,
                          size_t n)
{
    const unsigned char *p = src;
    struct stat st;

    /* A file that shrank under the map: MMF_EIO, as a view would report;
     * never grow it back by writing. */
    if (mmf__sys_fstat((int)f->handle, &st) != 0)
        return os_fail();
    if ((uint64_t)st.st_size < offset + n)
        return mmf__fail(MMF_EIO, 0);
    while (n > 0) {
        ssize_t k = pwrite((int)f->handle, p, n, (off_t)offset);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return os_fail();
        }
        p += k;
        offset += (uint64_t)k;
        n -= (size_t)k;
    }
    return MMF_OK;
}

void mmf__os_unmap(void *base, size_t len)
{
    if (base != NULL)
        (void)munmap(base, len);
}

int mmf__os_probe(mmf_handle h, int kind, int access)
{
    size_t page = mmf__os_page_size();
    void *p;
    int rc = map_fd(h, kind, 0, page, access, &p);

    if (rc != MMF_OK)
        return rc;
    mmf__os_unmap(p, page);
    return MMF_OK;
}

int mmf__os_file_init(mmf_file *f)
{
    (void)f; /* POSIX maps the descriptor itself */
    return MMF_OK;
}

void mmf__os_close_handle(mmf_handle h)
{
    if (h >= 0)
        (void)close((int)h);
}

int mmf__os_set_inheritable(mmf_handle h, int inheritable)
{
    int fl = fcntl((int)h, F_GETFD);

    if (fl == -1)
        return os_fail();
    fl = inheritable ? (fl & ~FD_CLOEXEC) : (fl | FD_CLOEXEC);
    if (fcntl((int)h, F_SETFD, fl) == -1)
        return os_fail();
    return MMF_OK;
}

int mmf__os_get_permissions(mmf_handle h, unsigned *mode)
{
    struct stat st;

    if (mmf__sys_fstat((int)h, &st) != 0)
        return os_fail();
    *mode = (unsigned)st.st_mode & 0777u;
    return MMF_OK;
}

int mmf__os_set_permissions(mmf_handle h, unsigned mode)
{
    if (mmf__sys_fchmod((int)h, (mode_t)mode) != 0) {
        int e = errno;
        if (e == EPERM)
            return mmf__fail(MMF_EPERM, e);
        return os_fail();
    }
    return MMF_OK;
}

/* ---- flush ---- */

/* fsyncs the directory of a file this map created, once per map. */
static int sync_directory(mmf_file *f)
{
    char *dir, *slash;
    int fd, rc = MMF_OK;

    if (!f->created || f->path == NULL || atomic_load(&f->dir_synced))
        return MMF_OK;
    if (mmf__strdup(f->path, &dir) != MMF_OK)
        return MMF_ENOMEM;
    slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = mmf__sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) {
        rc = os_fail();
    } else {
        if (mmf__sys_fsync(fd) != 0 && errno != EINVAL)
            rc = os_fail();
        close(fd);
    }
    free(dir);
    if (rc == MMF_OK)
        atomic_store(&f->dir_synced, 1);
    return rc;
}

static int durable_file(mmf_file *f)
{
    if (mmf__sys_fsync((int)f->handle) != 0) {
        /* Devices without a cache (e.g. /dev/zero) cannot be fsynced. */
        if (f->kind == MMF__KIND_DEVICE && (errno == EINVAL || errno == EROFS))
            return MMF_OK;
        return os_fail();
    }
    return sync_directory(f);
}

int mmf__os_flush_range(mmf_file *f, uint64_t offset, uint64_t len,
                        unsigned flags)
{
    unsigned how;

    if (f->kind == MMF__KIND_DEVICE)
        return flags == MMF_FLUSH_DURABLE ? durable_file(f) : MMF_OK;
    if (flags == MMF_FLUSH_DURABLE)
        return durable_file(f);
#ifdef __linux__
    how = flags == MMF_FLUSH_ASYNC
              ? SYNC_FILE_RANGE_WRITE
              : SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                    SYNC_FILE_RANGE_WAIT_AFTER;
#else
    how = 0;
#endif
    if (mmf__sys_sync_range((int)f->handle, (off_t)offset, (off_t)len, how) !=
        0)
        return os_fail();
    return MMF_OK;
}

int mmf__os_flush_mapping(mmf_file *f, void *addr, size_t len,
                          uint64_t file_off, unsigned flags)
{
    if (flags == MMF_FLUSH_ASYNC) {
        if (f->kind == MMF__KIND_FILE || f->kind == MMF__KIND_BLOCK)
            return mmf__os_flush_range(f, file_off, len, flags);
        if (mmf__sys_msync(addr, len, MS_ASYNC) != 0)
            return os_fail();
        return MMF_OK;
    }
    if (mmf__sys_msync(addr, len, MS_SYNC) != 0) {
        int e = errno;
        /* ENOMEM here means the file no longer covers the range. */
        return mmf__fail(e == ENOMEM ? MMF_EIO : mmf__error_from_os(e), e);
    }
    if (flags == MMF_FLUSH_DURABLE)
        return durable_file(f);
    return MMF_OK;
}

/* ---- advice ---- */

/* Faults in each page by hand where MADV_POPULATE_* is missing. A fault
 * poisons the view through the guard. */
static int touch_pages(mmf_view *v, unsigned char *p, size_t len, int write)
{
    size_t page = mmf__os_page_size();

    for (size_t i = 0; i < len && !v->head.poisoned; i += page) {
        if (write)
            atomic_fetch_add((_Atomic unsigned char *)(p + i), 0);
        else
            (void)*(volatile unsigned char *)(p + i);
    }
    return v->head.poisoned ? mmf__fail(MMF_EIO, 0) : MMF_OK;
}

int mmf__os_advise(mmf_view *v, void *addr, size_t len, int advice)
{
    int write, e;

    switch (advice) {
    case MMF_ADVICE_NORMAL:
        (void)mmf__sys_madvise(addr, len, MADV_NORMAL);
        return MMF_OK;
    case MMF_ADVICE_SEQUENTIAL:
        (void)mmf__sys_madvise(addr, len, MADV_SEQUENTIAL);
        return MMF_OK;
    case MMF_ADVICE_RANDOM:
        (void)mmf__sys_madvise(addr, len, MADV_RANDOM);
        return MMF_OK;
    case MMF_ADVICE_WILLNEED:
        (void)mmf__sys_madvise(addr, len, MADV_WILLNEED);
        return MMF_OK;
    case MMF_ADVICE_DONTNEED:
        /* On a private view this would throw away the view's own writes. */
        if (v->head.access != MMF_ACCESS_COPY_ON_WRITE)
            (void)mmf__sys_madvise(addr, len, MADV_DONTNEED);
        return MMF_OK;
    default:
        break;
    }
    write = v->head.access != MMF_ACCESS_COPY_ON_WRITE &&
            mmf__access_can_write(v->head.access);
    if (v->head.poisoned)
        return mmf__fail(MMF_EIO, 0);
    if (mmf__sys_madvise(addr, len,
                         write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ) == 0)
        return MMF_OK;
    e = errno;
    if (e == EINVAL)
        return touch_pages(v, addr, len, write);
    if (e == EFAULT || e == ENOMEM || e == EHWPOISON) {
        /* The pages cannot be had: memory for shared memory, the file's
         * blocks (or its length) for a file. */
        int code = MMF_EIO;
        struct stat st;
        if (e != EHWPOISON && v->file->kind == MMF__KIND_SHM)
            code = MMF_ENOSPC;
        else if (e != EHWPOISON && v->file->kind == MMF__KIND_FILE &&
                 fstat((int)v->file->handle, &st) == 0 &&
                 (uint64_t)st.st_size >= v->offset + v->head.size)
            code = MMF_ENOSPC; /* the file covers it: no blocks to be had */
        return mmf__fail(code, e);
    }
    return os_fail();
}

/* ---- locks ---- */

int mmf__os_lock_init(mmf__lock *l)
{
    pthread_mutex_t *m = malloc(sizeof *m);

    if (m == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    if (pthread_mutex_init(m, NULL) != 0) {
        free(m);
        return mmf__fail(MMF_ENOMEM, 0);
    }
    l->impl = m;
    return MMF_OK;
}

void mmf__os_lock(mmf__lock *l)
{
    (void)pthread_mutex_lock((pthread_mutex_t *)l->impl);
}

void mmf__os_unlock(mmf__lock *l)
{
    (void)pthread_mutex_unlock((pthread_mutex_t *)l->impl);
}

void mmf__os_lock_destroy(mmf__lock *l)
{
    if (l->impl != NULL) {
        pthread_mutex_destroy((pthread_mutex_t *)l->impl);
        free(l->impl);
        l->impl = NULL;
    }
}
