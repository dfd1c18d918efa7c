/*
 * libmmf: memory-mapped files and named shared memory for C.
 *
 * One header, no OS headers. Every function that can fail returns MMF_OK (0)
 * or a negative MMF_E* code; constructors take their out-parameter last and
 * set it to NULL on failure. Closing NULL is a no-op returning MMF_OK.
 *
 * Argument values are checked before any OS call, so a bad argument never
 * touches the file system, and a failed call leaves no trace (no file
 * created, no length changed, no name left behind); the one exception is
 * MMF_MODE_CREATE, which may leave an existing file truncated.
 *
 * Threads: an mmf_file may be used from several threads at once (views,
 * mmf_read, mmf_write); a view's memory may be used from any thread; an
 * mmf_stream cursor belongs to one thread at a time. A close must not race
 * with any other call on the same object. Typed accessors are plain,
 * non-atomic accesses: use C11 atomics on mmf_view_data() or a named mutex
 * to synchronise threads or processes.
 *
 * POSIX note: mmf_close closes a descriptor of the file, and POSIX drops every
 * fcntl() record lock the process holds on a file when any descriptor of it
 * is closed. No library can change that rule.
 *
 * Faults: when the file behind a view shrinks (another process truncated it),
 * touching the vanished bytes would normally kill the process with SIGBUS.
 * libmmf installs a SIGBUS handler (chained to any previous one) that, for
 * addresses inside its views, replaces the faulting page with zeros and marks
 * the view "poisoned": the guarded calls then return MMF_EIO, and raw pointer
 * accesses read zeros instead of crashing (Linux).
 */
#ifndef MMF_H
#define MMF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- export and inline macros ------------------------------------------ */

#if defined(_WIN32) || defined(__CYGWIN__)
#if defined(MMF_BUILDING_DLL)
#define MMF_API __declspec(dllexport)
#elif defined(MMF_STATIC) || defined(MMF_BUILDING_STATIC)
#define MMF_API
#else
#define MMF_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define MMF_API __attribute__((visibility("default")))
#else
#define MMF_API
#endif

/*
 * The typed view accessors are defined in this header so that they inline
 * into the caller. The library also exports one out-of-line copy of each (it
 * defines MMF_INLINE_EXTERN in one source file) for bindings that call them
 * by symbol.
 */
#if defined(MMF_INLINE_EXTERN)
#define MMF_INLINE MMF_API
#elif defined(__cplusplus) ||                                                  \
    (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define MMF_INLINE static inline
#elif defined(_MSC_VER)
#define MMF_INLINE static __inline
#else
#define MMF_INLINE static
#endif

/* ---- version ------------------------------------------------------------ */

#define MMF_VERSION_MAJOR 0
#define MMF_VERSION_MINOR 1
#define MMF_VERSION_PATCH 0
#define MMF_VERSION_NUMBER                                                     \
    (MMF_VERSION_MAJOR * 10000 + MMF_VERSION_MINOR * 100 + MMF_VERSION_PATCH)

/* MMF_VERSION_NUMBER of the library loaded at run time. */
MMF_API unsigned mmf_version(void);
/* "MAJOR.MINOR.PATCH" of the library loaded at run time; static text. */
MMF_API const char *mmf_version_string(void);

/* ---- errors ------------------------------------------------------------- */

#define MMF_OK 0
#define MMF_EINVAL -1        /* invalid argument */
#define MMF_ERANGE -2        /* offset, size or position out of range */
#define MMF_ENOENT -3        /* file or named object does not exist */
#define MMF_EEXIST -4        /* file or named object already exists */
#define MMF_EACCES -5        /* denied by the OS or by the access asked */
#define MMF_ENOSPC -6        /* storage could not be committed */
#define MMF_ENOMEM -7        /* out of memory or address space */
#define MMF_EIO -8           /* I/O error, or the backing file shrank */
#define MMF_ENOTSUP -9       /* not supported here or for this file type */
#define MMF_ENAMETOOLONG -10 /* path too long */
#define MMF_EBUSY -11        /* lock held elsewhere, or object in use */
#define MMF_ETIMEDOUT -12    /* timed wait expired */
#define MMF_EOWNERDEAD -13   /* mutex acquired; its previous owner died */
#define MMF_EPERM -14        /* operation not permitted */
#define MMF_EFORMAT -15      /* object exists but has the wrong kind/layout */

/* Static English text for an error code; "unknown error" for unknown codes.
 * Never NULL. */
MMF_API const char *mmf_strerror(int err);
/* The macro name of an error code ("MMF_EINVAL"); "MMF_OK" for 0 and
 * "MMF_EUNKNOWN" for codes it does not know. Never NULL. */
MMF_API const char *mmf_errname(int err);
/* The errno (POSIX) or GetLastError() value behind this thread's last failed
 * libmmf call, or 0 when that failure involved no failing OS call (argument
 * errors). Set by every failing call except the inline typed accessors;
 * successful calls leave it unchanged. */
MMF_API int mmf_last_os_error(void);

/* ---- enumerations ------------------------------------------------------- */

/* Access rights; values as .NET's MemoryMappedFileAccess. */
typedef enum mmf_access {
    MMF_ACCESS_READ_WRITE = 0,
    MMF_ACCESS_READ = 1,
    MMF_ACCESS_WRITE = 2,         /* views and mmf_open_existing only */
    MMF_ACCESS_COPY_ON_WRITE = 3, /* private: writes never reach the file */
    MMF_ACCESS_READ_EXECUTE = 4,
    MMF_ACCESS_READ_WRITE_EXECUTE = 5
} mmf_access;
#define MMF_ACCESS_READ_WRITE 0
#define MMF_ACCESS_READ 1
#define MMF_ACCESS_WRITE 2
#define MMF_ACCESS_COPY_ON_WRITE 3
#define MMF_ACCESS_READ_EXECUTE 4
#define MMF_ACCESS_READ_WRITE_EXECUTE 5

/* How mmf_create_from_file treats the path; values as .NET's FileMode.
 * 5 (truncate) and 6 (append) are MMF_EINVAL. */
typedef enum mmf_mode {
    MMF_MODE_CREATE_NEW = 1, /* MMF_EEXIST if the file exists */
    MMF_MODE_CREATE = 2,     /* create, or truncate to 0 then grow */
    MMF_MODE_OPEN = 3,       /* MMF_ENOENT if the file is missing */
    MMF_MODE_OPEN_OR_CREATE = 4
} mmf_mode;
#define MMF_MODE_CREATE_NEW 1
#define MMF_MODE_CREATE 2
#define MMF_MODE_OPEN 3
#define MMF_MODE_OPEN_OR_CREATE 4

/* Flags for the create and open functions; unknown bits are MMF_EINVAL. */
#define MMF_OPT_DELAY_ALLOCATE (1u << 0) /* do not commit storage up front */
#define MMF_OPT_INHERITABLE (1u << 1)    /* handle inherited by children */
#define MMF_OPT_KEEP_NAME (1u << 2) /* name outlives holders (mmf_unlink) */

/* Flush kinds: exactly one of these. */
#define MMF_FLUSH_SYNC 0    /* write dirty pages to the file and wait */
#define MMF_FLUSH_ASYNC 1   /* start write-back; never waits for the device */
#define MMF_FLUSH_DURABLE 2 /* SYNC, then make it survive power loss */

/* Stream seek origins. */
#define MMF_SEEK_SET 0
#define MMF_SEEK_CUR 1
#define MMF_SEEK_END 2

/* A file descriptor on POSIX, a HANDLE on Windows. */
typedef intptr_t mmf_handle;
#define MMF_INVALID_HANDLE ((mmf_handle)-1)
#define MMF_WAIT_FOREVER UINT32_MAX /* for mmf_mutex_timedlock */

typedef struct mmf_file mmf_file;     /* a mapped object, persisted or not */
typedef struct mmf_view mmf_view;     /* a random-access view */
typedef struct mmf_stream mmf_stream; /* a sequential view with a cursor */
typedef struct mmf_mutex mmf_mutex;   /* a cross-process robust mutex */

/* ---- system ------------------------------------------------------------- */

/* The size of a memory page. */
MMF_API size_t mmf_page_size(void);
/* The alignment the OS needs for mapping offsets: the page size on POSIX,
 * 64 KiB on Windows. libmmf aligns internally; this is informational. */
MMF_API size_t mmf_allocation_granularity(void);

/* ---- inspecting named objects ------------------------------------------ */

#define MMF_KIND_MAP 1      /* a named non-persisted map */
#define MMF_KIND_FILE_MAP 2 /* a named persisted map (a file) */
#define MMF_KIND_MUTEX 3    /* a named mutex */
#define MMF_KIND_FOREIGN 4  /* shared memory libmmf did not create */

typedef struct mmf_info {
    char name[251];    /* the object's name (without Local\ or Global\) */
    int kind;          /* MMF_KIND_* */
    uint64_t capacity; /* bytes (0 for mutexes) */
    unsigned mode;     /* permission bits (a file map: the file's) */
    int64_t owner;     /* uid on POSIX; -1 where unknown */
    int holders;       /* processes holding a handle or view; -1: unknown */
    int stale;         /* 1: every holder died; removed by the next libmmf
                          call on the name other than mmf_stat / mmf_list */
    char path[4096];   /* the file of a MMF_KIND_FILE_MAP, else "" */
} mmf_info;

/* Describes the named object `name` of `kind` (MMF_KIND_MAP: maps of any
 * kind, or MMF_KIND_MUTEX). Missing → MMF_ENOENT; a stale object → MMF_OK
 * with stale 1. Changes nothing. Other kinds, bad names or NULL out →
 * MMF_EINVAL. */
MMF_API int mmf_stat(const char *name, int kind, mmf_info *out);
/* Calls fn for every named object this user can see, until fn returns
 * non-zero. MMF_OK when every object was visited or fn stopped it. Changes
 * nothing. */
MMF_API int mmf_list(int (*fn)(const mmf_info *info, void *ctx), void *ctx);

/* ---- creating and opening ----------------------------------------------- */

/*
 * Maps the file at `path` (UTF-8), opening or creating it as `mode` says.
 *
 * capacity: 0 means the file's size (an empty file is then MMF_EINVAL, and
 * so is capacity 0 with MMF_MODE_CREATE_NEW or MMF_MODE_CREATE). Smaller
 * than the file → MMF_ERANGE (files are never shrunk). Larger than the file:
 * MMF_EINVAL for read-only accesses (READ, READ_EXECUTE, COPY_ON_WRITE);
 * otherwise the file grows to exactly `capacity` bytes with its storage
 * reserved up front (fallocate) unless MMF_OPT_DELAY_ALLOCATE, so that a full
 * disk is MMF_ENOSPC here rather than a crash later. 2^63 or more, or more
 * than the file system allows → MMF_ERANGE.
 *
 * access: any value but MMF_ACCESS_WRITE (MMF_EINVAL). The file is opened
 * read-only for READ, READ_EXECUTE and COPY_ON_WRITE, read-write otherwise;
 * a file that cannot be opened so → MMF_EACCES. COPY_ON_WRITE never changes
 * the file. Execute access the OS refuses (noexec mount) → MMF_EACCES.
 * Read-only accesses never create or truncate: with MMF_MODE_CREATE_NEW or
 * MMF_MODE_CREATE → MMF_EINVAL; MMF_MODE_OPEN_OR_CREATE on a missing path →
 * MMF_EINVAL.
 *
 * name: NULL for an unnamed map; "" or an invalid name → MMF_EINVAL. With a
 * name, other processes can mmf_open_existing(name) the same file while any
 * holder keeps it; a live name → MMF_EEXIST, detected before the file is
 * opened or created. The file itself always stays.
 *
 * Pipes, FIFOs, sockets and directories → MMF_ENOTSUP. Character and block
 * devices need an explicit capacity (block: at most the device's size).
 * A file this call created is removed again if the call fails.
 *
 * Errors: MMF_EINVAL, MMF_ERANGE, MMF_ENOENT, MMF_EEXIST, MMF_EACCES,
 * MMF_ENOTSUP, MMF_ENAMETOOLONG, MMF_EBUSY (e.g. a running executable
 * opened for writing), MMF_ENOSPC, MMF_ENOMEM, MMF_EIO.
 */
MMF_API int mmf_create_from_file(const char *path, int mode, const char *name,
                                 uint64_t capacity, int access, unsigned flags,
                                 mmf_file **out);

/*
 * Maps an open descriptor (POSIX) or HANDLE (Windows). The caller's handle is
 * never closed and its file position never moved; libmmf keeps a duplicate.
 * Regular files and devices follow the rules of mmf_create_from_file. A
 * shared-memory descriptor (a POSIX shm object or a memfd, e.g. one inherited
 * from a process that called mmf_create_new) maps that object: capacity 0
 * gives its exact capacity, any other capacity must equal it (MMF_ERANGE).
 * An invalid or closed handle → MMF_EINVAL; a handle lacking the rights that
 * `access` needs → MMF_EACCES. mmf_created() is 0. When the descriptor is
 * the data of a named libmmf map (inherited from its creator), the new map
 * counts as a holder and reports the exact recorded capacity. With a name,
 * as mmf_create_from_file.
 */
MMF_API int mmf_create_from_handle(mmf_handle handle, const char *name,
                                   uint64_t capacity, int access,
                                   unsigned flags, mmf_file **out);

/*
 * Creates a non-persisted (memory-backed) map of exactly `capacity` bytes,
 * zero-filled. Storage is committed now (MMF_ENOSPC if it cannot be) unless
 * MMF_OPT_DELAY_ALLOCATE, in which case each view commits its own range when
 * it opens. capacity 0 or access WRITE → MMF_EINVAL.
 *
 * name NULL: anonymous, shareable through its handle (mmf_handle_of,
 * MMF_OPT_INHERITABLE). Named: a live name → MMF_EEXIST (of concurrent
 * creators exactly one succeeds). The object lives while any process holds
 * a handle or a view of it, and is removed when the last one closes, exits
 * or is killed; MMF_OPT_KEEP_NAME keeps it until mmf_unlink instead. On
 * POSIX the map named N is the shared-memory object "/N". Created 0600
 * whatever the umask. Names: 1 to 250 bytes of 0x20-0x7E other than '/' and
 * '\', not "." or ".."; a leading "Local\" is dropped and "Global\" too
 * (POSIX has one namespace).
 */
MMF_API int mmf_create_new(const char *name, uint64_t capacity, int access,
                           unsigned flags, mmf_file **out);

/*
 * Opens the live named map (its capacity stays as created; `capacity` is
 * checked, then ignored), or creates it as mmf_create_new would;
 * mmf_created() tells which. name NULL, capacity 0 or access WRITE →
 * MMF_EINVAL. Never fails with MMF_ENOENT or MMF_EEXIST because of
 * concurrent creators or closers. A shared-memory object made by another
 * program is opened, never replaced.
 */
MMF_API int mmf_create_or_open(const char *name, uint64_t capacity, int access,
                               unsigned flags, mmf_file **out);

/*
 * Opens a live named map, persisted or not, with `access` (any of the six,
 * MMF_ACCESS_WRITE included). None, or one whose holders all died →
 * MMF_ENOENT; more access than the object was created with (the view
 * matrix of mmf_view_open) or than the OS permits → MMF_EACCES. flags: 0,
 * MMF_OPT_INHERITABLE or MMF_OPT_DELAY_ALLOCATE (ignored); others →
 * MMF_EINVAL.
 */
MMF_API int mmf_open_existing(const char *name, int access, unsigned flags,
                              mmf_file **out);

/*
 * Releases the handle. Views opened from it stay valid until they are closed
 * themselves. NULL is a no-op. Returns MMF_OK.
 */
MMF_API int mmf_close(mmf_file *f);

/* Removes a libmmf map's name now, held or not: holders keep their memory,
 * and the next create makes a new object. Missing → MMF_ENOENT; a
 * shared-memory object libmmf did not create → MMF_EFORMAT (untouched). */
MMF_API int mmf_unlink(const char *name);

/* The map's exact capacity in bytes (0 for NULL). */
MMF_API uint64_t mmf_capacity(const mmf_file *f);
/* The access the map was created or opened with (MMF_EINVAL for NULL). */
MMF_API int mmf_access_of(const mmf_file *f);
/* The name exactly as passed, or NULL if unnamed (or f is NULL). */
MMF_API const char *mmf_name(const mmf_file *f);
/* 1 if the call that made f created the object (the file, or the anonymous
 * map), else 0. */
MMF_API int mmf_created(const mmf_file *f);
/* The descriptor/HANDLE behind the map, borrowed; valid until mmf_close.
 * MMF_INVALID_HANDLE for NULL. */
MMF_API mmf_handle mmf_handle_of(const mmf_file *f);
/* Makes the handle inherited by child processes started later (1), or not
 * (0). Every handle survives fork(). MMF_EINVAL for NULL. */
MMF_API int mmf_set_inheritable(mmf_file *f, int inheritable);
/* Sets the permission bits (0..0777, else MMF_EINVAL) of the object; for a
 * persisted map, of its file. Not the owner → MMF_EPERM. */
MMF_API int mmf_set_permissions(mmf_file *f, unsigned mode);
/* Reads the permission bits into *mode. NULL arguments → MMF_EINVAL. */
MMF_API int mmf_get_permissions(const mmf_file *f, unsigned *mode);

/* ---- views -------------------------------------------------------------- */

/*
 * The leading fields of every view, read by the inline typed accessors.
 * Read-only for callers; frozen for the life of the major version.
 */
typedef struct mmf_view_head {
    unsigned char *data;   /* as mmf_view_data() */
    uint64_t size;         /* as mmf_view_size() */
    int access;            /* as mmf_view_access() */
    volatile int poisoned; /* set once any access faulted in this view */
} mmf_view_head;

/*
 * Opens a view of `size` bytes at `offset` of the map (size 0: to the end).
 * offset need not be aligned. offset > capacity, offset + size > capacity,
 * or overflow → MMF_ERANGE; a view of size 0 at offset == capacity is valid
 * and empty (mmf_view_data gives NULL). The view's access must be allowed by
 * the map's (READ_WRITE → READ, WRITE, READ_WRITE, COPY_ON_WRITE; READ →
 * READ, COPY_ON_WRITE; COPY_ON_WRITE → READ, COPY_ON_WRITE; READ_EXECUTE →
 * READ, COPY_ON_WRITE, READ_EXECUTE; READ_WRITE_EXECUTE → all; WRITE →
 * WRITE), else MMF_EACCES. Views are coherent with each other, within and
 * across processes, except COPY_ON_WRITE views, whose writes are private to
 * that one view. The view keeps the map's object alive after mmf_close.
 * A view too large for the address space → MMF_ENOMEM.
 */
MMF_API int mmf_view_open(mmf_file *f, uint64_t offset, uint64_t size,
                          int access, mmf_view **out);
/* Unmaps the view. NULL is a no-op; a stream's own view → MMF_EINVAL. */
MMF_API int mmf_view_close(mmf_view *v);
/* Pointer to the byte at the view's offset; NULL for an empty view. */
MMF_API void *mmf_view_data(const mmf_view *v);
/* Exactly the size asked (or up to the end of the map). */
MMF_API uint64_t mmf_view_size(const mmf_view *v);
/* The offset in the map the view starts at. */
MMF_API uint64_t mmf_view_offset(const mmf_view *v);
/* offset % mmf_allocation_granularity(): how far the data pointer is from
 * the start of the underlying OS mapping. */
MMF_API size_t mmf_view_pointer_offset(const mmf_view *v);
/* The view's access (MMF_EINVAL for NULL). */
MMF_API int mmf_view_access(const mmf_view *v);

/*
 * Flushes [pos, pos+len) of the view (len 0: to the end); pos need not be
 * aligned. Beyond the view → MMF_ERANGE; flags not exactly one of
 * MMF_FLUSH_SYNC / ASYNC / DURABLE → MMF_EINVAL. Copy-on-write views and
 * non-persisted maps: MMF_OK, nothing written. DURABLE is msync + fsync (and,
 * once, an fsync of the directory of a file this map created).
 */
MMF_API int mmf_view_flush(mmf_view *v, uint64_t pos, uint64_t len,
                           unsigned flags);

/*
 * Copies n bytes at pos of the view. pos + n beyond the view → MMF_ERANGE
 * with nothing copied; then read on a WRITE view / write on a READ or
 * READ_EXECUTE view → MMF_EACCES; n 0 is then a no-op. A buffer may be NULL
 * only when n is 0. A fault (file shrank) → MMF_EIO and the view is poisoned.
 */
MMF_API int mmf_view_read(const mmf_view *v, uint64_t pos, void *dst, size_t n);
MMF_API int mmf_view_write(mmf_view *v, uint64_t pos, const void *src,
                           size_t n);

#define MMF_ADVICE_NORMAL 0
#define MMF_ADVICE_SEQUENTIAL 1
#define MMF_ADVICE_RANDOM 2
#define MMF_ADVICE_WILLNEED 3
#define MMF_ADVICE_DONTNEED 4 /* ignored on copy-on-write views */
#define MMF_ADVICE_POPULATE 5 /* fault in now: MMF_EIO/MMF_ENOSPC, no crash */

/*
 * Gives the OS a hint about [pos, pos+len) (len 0: to the end); bounds as
 * for mmf_view_flush. Unknown advice → MMF_EINVAL; advice the OS lacks is
 * accepted and ignored, except MMF_ADVICE_POPULATE, which always faults the
 * range in (for writing on writable shared views, for reading otherwise) and
 * returns MMF_EIO or MMF_ENOSPC where pages cannot be had.
 */
MMF_API int mmf_view_advise(mmf_view *v, uint64_t pos, uint64_t len,
                            int advice);

/*
 * Typed access, bounds- and access-checked, unaligned-safe, native byte
 * order. MMF_EINVAL for a NULL view or out pointer; MMF_ERANGE when the
 * value does not fit at pos; MMF_EACCES for the wrong access; MMF_EIO once
 * the view is poisoned. These are inline and do not set mmf_last_os_error().
 */
/* MMF__BARRIER keeps the poisoned-flag check after a store; MMF__USE keeps
 * a load, even one whose value the caller ignores (a dead load would never
 * fault, and the check after it would pass for bytes that are gone), and
 * before the check, at no cost beyond the load itself. Reads need no check
 * before the access (a poisoned view's pages read as zeros, so the check
 * after it is enough, and the fast path stays one load and a few
 * compares); writes check before too, so that a poisoned view writes
 * nothing. */
#if defined(__GNUC__) || defined(__clang__)
#define MMF__BARRIER() __asm__ __volatile__("" ::: "memory")
#define MMF__USE(x) __asm__ __volatile__("" : "+r"(x))
#else
#define MMF__BARRIER() ((void)0)
#define MMF__USE(x)                                                            \
    do {                                                                       \
        volatile const unsigned char *mmf__p =                                 \
            (volatile const unsigned char *)&(x);                              \
        (void)mmf__p[0];                                                       \
    } while (0)
#endif

#define MMF__DEFINE_TYPED(suffix, type, raw_type)                              \
    MMF_INLINE int mmf_view_read_##suffix(const mmf_view *v, uint64_t pos,     \
                                          type *out)                           \
    {                                                                          \
        const mmf_view_head *h = (const mmf_view_head *)(const void *)v;       \
        const unsigned char *data;                                             \
        uint64_t size;                                                         \
        int access;                                                            \
        raw_type raw;                                                          \
        if (h == NULL || out == NULL)                                          \
            return MMF_EINVAL;                                                 \
        /* Read the head at once: in a loop, the loads stay out of it. */      \
        data = h->data;                                                        \
        size = h->size;                                                        \
        access = h->access;                                                    \
        if (size < sizeof(type) || pos > size - sizeof(type))                  \
            return MMF_ERANGE;                                                 \
        if (access == MMF_ACCESS_WRITE)                                        \
            return MMF_EACCES;                                                 \
        memcpy(&raw, data + pos, sizeof raw);                                  \
        MMF__USE(raw);                                                         \
        if (h->poisoned)                                                       \
            return MMF_EIO;                                                    \
        memcpy(out, &raw, sizeof raw);                                         \
        return MMF_OK;                                                         \
    }                                                                          \
    MMF_INLINE int mmf_view_write_##suffix(mmf_view *v, uint64_t pos,          \
                                           type val)                           \
    {                                                                          \
        mmf_view_head *h = (mmf_view_head *)(void *)v;                         \
        if (h == NULL)                                                         \
            return MMF_EINVAL;                                                 \
        if (h->size < sizeof(type) || pos > h->size - sizeof(type))            \
            return MMF_ERANGE;                                                 \
        if (h->access == MMF_ACCESS_READ ||                                    \
            h->access == MMF_ACCESS_READ_EXECUTE)                              \
            return MMF_EACCES;                                                 \
        if (h->poisoned)                                                       \
            return MMF_EIO;                                                    \
        memcpy(h->data + pos, &val, sizeof(type));                             \
        MMF__BARRIER();                                                        \
        if (h->poisoned)                                                       \
            return MMF_EIO;                                                    \
        return MMF_OK;                                                         \
    }

MMF__DEFINE_TYPED(u8, uint8_t, uint8_t)
MMF__DEFINE_TYPED(u16, uint16_t, uint16_t)
MMF__DEFINE_TYPED(u32, uint32_t, uint32_t)
MMF__DEFINE_TYPED(u64, uint64_t, uint64_t)
MMF__DEFINE_TYPED(i8, int8_t, uint8_t)
MMF__DEFINE_TYPED(i16, int16_t, uint16_t)
MMF__DEFINE_TYPED(i32, int32_t, uint32_t)
MMF__DEFINE_TYPED(i64, int64_t, uint64_t)
MMF__DEFINE_TYPED(f32, float, uint32_t)
MMF__DEFINE_TYPED(f64, double, uint64_t)

/* Read or write one object of any type: sizeof *(ptr) bytes at pos. */
#define MMF_VIEW_READ(v, pos, ptr)                                             \
    mmf_view_read((v), (pos), (ptr), sizeof *(ptr))
#define MMF_VIEW_WRITE(v, pos, ptr)                                            \
    mmf_view_write((v), (pos), (ptr), sizeof *(ptr))

/* ---- streams ------------------------------------------------------------ */

/*
 * A view with a cursor. Arguments and access as for mmf_view_open; the
 * position starts at 0 and the length is fixed.
 */
MMF_API int mmf_stream_open(mmf_file *f, uint64_t offset, uint64_t size,
                            int access, mmf_stream **out);
/* Closes the stream and its view. NULL is a no-op. */
MMF_API int mmf_stream_close(mmf_stream *s);
/* Copies min(n, length - pos) bytes (0 at or past the end, not an error),
 * advances, and stores the count in *nread (may be NULL; always written).
 * A read on a WRITE stream → MMF_EACCES. */
MMF_API int mmf_stream_read(mmf_stream *s, void *buf, size_t n, size_t *nread);
/* Writes all n bytes and advances, or, if they do not fit, returns
 * MMF_ERANGE and writes nothing. No write access → MMF_EACCES (also for 0
 * bytes). */
MMF_API int mmf_stream_write(mmf_stream *s, const void *buf, size_t n);
/* Moves the cursor. A result before 0 → MMF_ERANGE, position unchanged;
 * past the end is allowed. Unknown whence → MMF_EINVAL. newpos may be NULL. */
MMF_API int mmf_stream_seek(mmf_stream *s, int64_t off, int whence,
                            uint64_t *newpos);
/* The cursor position (0 for NULL). */
MMF_API uint64_t mmf_stream_tell(const mmf_stream *s);
/* The stream's fixed length (0 for NULL). */
MMF_API uint64_t mmf_stream_length(const mmf_stream *s);
/* mmf_view_flush(mmf_stream_view(s), 0, 0, flags). */
MMF_API int mmf_stream_flush(mmf_stream *s, unsigned flags);
/* The stream's own view; closed with the stream (mmf_view_close on it →
 * MMF_EINVAL). NULL for NULL. */
MMF_API mmf_view *mmf_stream_view(mmf_stream *s);

/* ---- map-level I/O ------------------------------------------------------ */

/*
 * Reads or writes n bytes at any 64-bit offset of the map without managing
 * views. Bounds → MMF_ERANGE, then access → MMF_EACCES (mmf_write on a
 * COPY_ON_WRITE map → MMF_EACCES; mmf_read of such a map reads the object,
 * never a view's private pages). Internal windows are mapped on first use
 * and reused until mmf_close (they take address space, not memory). Safe to
 * call from several threads at once. A fault → MMF_EIO; the faulting window
 * is replaced on the next call.
 */
MMF_API int mmf_read(mmf_file *f, uint64_t offset, void *dst, size_t n);
MMF_API int mmf_write(mmf_file *f, uint64_t offset, const void *src, size_t n);
/* As mmf_view_flush, over [offset, offset+len) of the map (len 0: to the
 * end). */
MMF_API int mmf_flush(mmf_file *f, uint64_t offset, uint64_t len,
                      unsigned flags);

/* ---- named mutex -------------------------------------------------------- */

/*
 * A cross-process mutex: recursive (the owning thread may lock again and
 * must unlock as often) and robust (if its owner dies holding it, the next
 * locker gets MMF_EOWNERDEAD and owns a usable mutex).
 *
 * mmf_mutex_create creates the named mutex, or opens the live one
 * (mmf_mutex_created tells which); initially_owned takes it at once only if
 * this call created it. name NULL: an unnamed mutex for the threads of this
 * process. flags: 0 or MMF_OPT_INHERITABLE, else MMF_EINVAL. A named mutex
 * is created owner-only (0600). Its name lives while any process holds a
 * handle, as for maps; a mutex whose name was gone is created fresh
 * (unlocked, no owner-died state). Maps and mutexes have separate
 * namespaces.
 */
MMF_API int mmf_mutex_create(const char *name, int initially_owned,
                             unsigned flags, mmf_mutex **out);
/* Opens the live named mutex; none (or a stale one) → MMF_ENOENT; not
 * permitted → MMF_EACCES. */
MMF_API int mmf_mutex_open_existing(const char *name, mmf_mutex **out);
/*
 * Locking: MMF_OK, or MMF_EOWNERDEAD, which also means the caller now holds
 * the mutex (its previous owner died holding it) and must unlock it. Test
 * `rc == MMF_OK || rc == MMF_EOWNERDEAD`, not `rc < 0`.
 * mmf_mutex_trylock → MMF_EBUSY when held elsewhere; mmf_mutex_timedlock →
 * MMF_ETIMEDOUT after timeout_ms milliseconds on a monotonic clock (0: do
 * not wait; MMF_WAIT_FOREVER: no limit).
 */
MMF_API int mmf_mutex_lock(mmf_mutex *m);
MMF_API int mmf_mutex_timedlock(mmf_mutex *m, uint32_t timeout_ms);
MMF_API int mmf_mutex_trylock(mmf_mutex *m);
/* Unlocks once. A thread that does not own it → MMF_EPERM. */
MMF_API int mmf_mutex_unlock(mmf_mutex *m);
/* Closes the handle. Closing does not unlock: a lock held by the calling
 * thread stays held until it unlocks through another handle or exits.
 * NULL is a no-op. */
MMF_API int mmf_mutex_close(mmf_mutex *m);
/* 1 if the call that made m created the mutex. */
MMF_API int mmf_mutex_created(const mmf_mutex *m);
/* Who may open the mutex: POSIX mode bits (0..0777). Not the owner →
 * MMF_EPERM. */
MMF_API int mmf_mutex_set_permissions(mmf_mutex *m, unsigned mode);
MMF_API int mmf_mutex_get_permissions(const mmf_mutex *m, unsigned *mode);
/* The name exactly as passed, or NULL if unnamed. */
MMF_API const char *mmf_mutex_name(const mmf_mutex *m);

#ifdef __cplusplus
}
#endif

#endif /* MMF_H */
