/* Internal interface between the portable core (src/) and one OS backend
 * (src/posix or src/win). The core includes no OS header; everything that
 * talks to the OS is an mmf__os_* function. */
#ifndef MMF_INTERNAL_H
#define MMF_INTERNAL_H

#include "mmf.h"

#include <stdatomic.h>
#include <stdint.h>

#define MMF__MAX_CAPACITY (UINT64_C(1) << 63)

/* What a handle refers to. */
enum {
    MMF__KIND_FILE = 1,   /* regular file: persisted, growable */
    MMF__KIND_DEVICE = 2, /* character device: no size */
    MMF__KIND_BLOCK = 3,  /* block device: fixed size */
    MMF__KIND_SHM = 4,    /* shared memory (shm object, memfd, section) */
    MMF__KIND_UNSUP = 5   /* pipe, FIFO, socket, directory */
};

/* A lock for slow paths; the backend owns what `impl` points to. */
typedef struct mmf__lock {
    void *impl;
} mmf__lock;

struct mmf__window;

/* A holder of a named object: the descriptor of its registration with the
 * holder lock, linked in the backend's list so that fork() can give the
 * child holder locks of its own. */
typedef struct mmf__holder {
    mmf_handle fd;
    int kind;    /* which namespace: 1 maps, 3 mutexes */
    int fork_fd; /* the child's holder description during fork() */
    struct mmf__holder *next, *prev;
} mmf__holder;

struct mmf_file {
    atomic_int refs;       /* the user's handle + one per open view */
    mmf_handle handle;     /* our own descriptor/HANDLE */
    mmf_handle section;    /* Windows: the section a persisted map's views
                              come from, when `handle` is its file;
                              MMF_INVALID_HANDLE where `handle` itself is
                              mapped (always on POSIX) */
    uint64_t capacity;     /* exact */
    int access;            /* as created or opened */
    int kind;              /* MMF__KIND_* */
    int created;           /* mmf_created() */
    unsigned flags;        /* MMF_OPT_* given at creation */
    char *name;            /* as passed, or NULL */
    char *path;            /* file path as passed, or NULL */
    atomic_int dir_synced; /* DURABLE flush synced the directory already */

    /* named objects (POSIX): the registration descriptor whose shared
     * lock marks this handle as a holder (fd MMF_INVALID_HANDLE if none) */
    mmf__holder holder;

    /* map-level I/O: a three-level table of lazily mapped windows */
    mmf__lock win_lock;
    size_t win_top_count;
    _Atomic(void *) *win_top;
};

struct mmf_view {
    mmf_view_head head; /* must stay first: read by inline accessors */
    mmf_file *file;     /* holds a reference */
    uint64_t offset;    /* in the map */
    void *base;         /* start of the OS mapping (NULL if empty) */
    size_t map_len;     /* length of the OS mapping */
    size_t ptr_off;     /* data - base */
    int stream_owned;   /* belongs to an mmf_stream */
    size_t guard_index; /* the backend's fault-guard table slot */
};

/* ---- core helpers (src/errors.c) ---- */

/* Records `os_error` as this thread's last OS error and returns `code`. */
int mmf__fail(int code, int os_error);
/* Returns the MMF_E* code for an errno/GetLastError value. */
int mmf__error_from_os(int os_error);

/* Validates a name (API.md rules). MMF_OK or MMF_EINVAL. */
int mmf__check_name(const char *name);
/* strdup that reports MMF_ENOMEM through mmf__fail. */
int mmf__strdup(const char *s, char **out);

/* ---- core functions shared between core files ---- */

/* Maps [offset, offset+size) of f with `access`; size must be > 0 and in
 * range. Takes a reference on f. */
int mmf__view_map(mmf_file *f, uint64_t offset, uint64_t size, int access,
                  mmf_view **out);
/* Drops a reference on f, freeing it with the last one. */
void mmf__file_release(mmf_file *f);
/* Tears down the map-level I/O windows of f (src/io.c). */
void mmf__io_teardown(mmf_file *f);
/* Allocates the window table of f; MMF_OK or MMF_ENOMEM. */
int mmf__io_init(mmf_file *f);
/* Is `view_access` allowed on a map created with `map_access`? */
int mmf__access_allows(int map_access, int view_access);
/* Does this access write / read? */
int mmf__access_can_write(int access);
int mmf__access_can_read(int access);
/* Flush a range of the file behind f (not through a view). */
int mmf__flush_file(mmf_file *f, uint64_t offset, uint64_t len, unsigned flags);

/* ---- OS backend ---- */

size_t mmf__os_page_size(void);
size_t mmf__os_granularity(void);

/* Opens or creates `path` as `mode` says; read-only when `writable` is 0;
 * never creates unless `may_create`. *created is 1 if this call created
 * the file; *truncate is 1 if MMF_MODE_CREATE found an existing file, which
 * the caller truncates once the mapping is known to be possible. */
int mmf__os_open_file(const char *path, int mode, int writable, int may_create,
                      int inheritable, mmf_handle *out, int *created,
                      int *truncate);
/* The absolute, resolved path of an existing file (malloc'd), or NULL. */
char *mmf__os_abspath(const char *path);
/* Duplicates a caller's handle after checking it allows `writable` use. */
int mmf__os_dup_handle(mmf_handle h, int writable, int inheritable,
                       mmf_handle *out);
/* Kind (MMF__KIND_*) and size of what a handle refers to; `by_handle`
 * lets shared-memory objects be recognised as such. */
int mmf__os_handle_info(mmf_handle h, int by_handle, int *kind, uint64_t *size);
/* Grows a regular file from `old_size` to `new_size`; reserves storage
 * when `reserve`. On failure the file keeps `old_size`. */
int mmf__os_grow(mmf_handle h, uint64_t old_size, uint64_t new_size,
                 int reserve);
/* Removes the file at `path` if it is still the file behind `h`. */
void mmf__os_remove_created(const char *path, mmf_handle h);
/* Creates an anonymous shared-memory object of `size` bytes for a map
 * created with `access`. */
int mmf__os_anon_create(uint64_t size, int access, int commit, int inheritable,
                        mmf_handle *out);
/* Commits storage of [offset, offset+len) of a shared-memory object. */
int mmf__os_commit(mmf_handle h, uint64_t offset, uint64_t len);
/* Checks the OS lets this object be mapped with `access` (execute, O_APPEND,
 * noexec mounts): maps and unmaps one page. */
int mmf__os_probe(mmf_handle h, int kind, int access);
/* Completes a persisted map once its mmf_file is built (size, access, name
 * and flags final): on Windows creates its section (named if f->name),
 * MMF_EEXIST if the name was taken meanwhile. Nothing to do on POSIX. */
int mmf__os_file_init(mmf_file *f);
void mmf__os_close_handle(mmf_handle h);
int mmf__os_set_inheritable(mmf_handle h, int inheritable);
int mmf__os_get_permissions(mmf_handle h, unsigned *mode);
int mmf__os_set_permissions(mmf_handle h, unsigned mode);

/* Maps `len` bytes of f at `aligned_offset` (a multiple of the
 * granularity). */
int mmf__os_map(mmf_file *f, uint64_t aligned_offset, size_t len, int access,
                void **base);
void mmf__os_unmap(void *base, size_t len);
/* Maps the view's file range again over its own address range, replacing
 * pages the fault guard had replaced with zeros. */
int mmf__os_remap(mmf_view *v);
/* Writes n bytes at `offset` of a persisted map's file through its
 * descriptor, coherent with every mapping of it (large mmf_write calls: no
 * page faults). MMF_EIO if the file no longer covers the range;
 * MMF_ENOTSUP where the platform prefers the mapping. */
int mmf__os_write_through(mmf_file *f, uint64_t offset, const void *src,
                          size_t n);
/* Flushes [addr, addr+len) of a mapping; addr is page-aligned. `file_off`
 * is the file offset of addr. */
int mmf__os_flush_mapping(mmf_file *f, void *addr, size_t len,
                          uint64_t file_off, unsigned flags);
/* Flushes [offset, offset+len) of the file itself (no mapping at hand). */
int mmf__os_flush_range(mmf_file *f, uint64_t offset, uint64_t len,
                        unsigned flags);
int mmf__os_advise(mmf_view *v, void *addr, size_t len, int advice);

/* The table of mappings the fault guards search (src/guard.c). */
typedef struct mmf__guard_entry {
    uintptr_t lo, hi; /* the mapping's address range */
    mmf_view *view;
    int zeroed;   /* Windows: the view is plain zero memory now */
    unsigned gen; /* Windows: bumped at every swap */
} mmf__guard_entry;
void mmf__guard_lock(void);
void mmf__guard_unlock(void);
/* With the lock held: the entry whose range holds addr, or NULL. */
mmf__guard_entry *mmf__guard_find(uintptr_t addr);
/* With the lock held: the view's entry, or NULL. */
mmf__guard_entry *mmf__guard_entry_of(const mmf_view *v);
/* Take the lock themselves. */
int mmf__guard_insert(mmf_view *v, uintptr_t lo, uintptr_t hi);
void mmf__guard_erase(mmf_view *v);

/* Fault guard: registers a view's mapping so that a SIGBUS inside it
 * poisons the view instead of killing the process. */
int mmf__os_guard_add(mmf_view *v);
void mmf__os_guard_remove(mmf_view *v);

/* ---- named objects ---- */

/* What creating or opening a named map produced. */
typedef struct mmf__named {
    mmf_handle handle; /* the data: shm object or file descriptor */
    mmf_handle reg;    /* holder registration, or MMF_INVALID_HANDLE */
    uint64_t capacity; /* exact */
    int kind;          /* MMF__KIND_SHM or MMF__KIND_FILE */
    int created;
    char *path; /* persisted: the file's path (malloc'd), else NULL */
} mmf__named;

/* Creates the named non-persisted map (or, with `or_open`, opens the live
 * one). */
int mmf__os_named_create(const char *name, uint64_t capacity, int access,
                         unsigned flags, int or_open, mmf__named *out);
/* Opens a live named map of any kind with `access`. */
int mmf__os_named_open(const char *name, int access, unsigned flags,
                       mmf__named *out);
int mmf__os_unlink(const char *name);
/* Persisted named maps: reserve the name before the file is opened
 * (MMF_EEXIST if live), then publish it once the map exists, or cancel. */
int mmf__os_reg_reserve(const char *name, void **token);
int mmf__os_reg_publish(void *token, mmf_file *f);

/* Named mutexes (src/mutex.c checks arguments, the backend does the rest).
 * Every backend's struct mmf_mutex begins with this head. */
typedef struct mmf__mutex_head {
    int created; /* mmf_mutex_created() */
    char *name;  /* as passed, or NULL */
} mmf__mutex_head;
int mmf__os_mutex_create(const char *name, int initially_owned, unsigned flags,
                         mmf_mutex **out);
int mmf__os_mutex_open(const char *name, mmf_mutex **out);
int mmf__os_mutex_lock(mmf_mutex *m, uint32_t timeout_ms, int try_only);
int mmf__os_mutex_unlock(mmf_mutex *m);
int mmf__os_mutex_close(mmf_mutex *m);
int mmf__os_mutex_set_permissions(mmf_mutex *m, unsigned mode);
int mmf__os_mutex_get_permissions(const mmf_mutex *m, unsigned *mode);
int mmf__os_stat(const char *name, int kind, mmf_info *out);
int mmf__os_list(int (*fn)(const mmf_info *info, void *ctx), void *ctx);
void mmf__os_reg_cancel(void *token);
/* For a handle given to mmf_create_from_handle: if it is the data of a live
 * libmmf object, becomes a holder and reports the exact capacity. */
int mmf__os_reg_attach(mmf_handle h, mmf_handle *reg, uint64_t *capacity);
/* Starts tracking a holder (so that fork() children hold too). */
void mmf__os_reg_track(mmf__holder *h);
/* Last reference of a holder: drops its holder lock, and removes the name
 * when no holder is left (unless kept). `name` as passed, or NULL. */
void mmf__os_reg_release(mmf__holder *h, const char *name);
int mmf__os_reg_set_inheritable(mmf_handle reg, int inheritable);
int mmf__os_reg_set_permissions(mmf_handle reg, unsigned mode);

/* Slow-path locks. */
int mmf__os_lock_init(mmf__lock *l);
void mmf__os_lock(mmf__lock *l);
void mmf__os_unlock(mmf__lock *l);
void mmf__os_lock_destroy(mmf__lock *l);

#endif
