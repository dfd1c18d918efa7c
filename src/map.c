/* Creating, opening and closing maps; the map accessors. */
#include "mmf_internal.h"

#include <stdlib.h>
#include <string.h>

#define CREATE_FLAGS (MMF_OPT_DELAY_ALLOCATE | MMF_OPT_INHERITABLE)
#define ALL_FLAGS                                                              \
    (MMF_OPT_DELAY_ALLOCATE | MMF_OPT_INHERITABLE | MMF_OPT_KEEP_NAME)

static int valid_access(int access)
{
    return access >= MMF_ACCESS_READ_WRITE &&
           access <= MMF_ACCESS_READ_WRITE_EXECUTE;
}

/* Accesses under which a persisted map never writes its file. */
static int read_only_access(int access)
{
    return access == MMF_ACCESS_READ || access == MMF_ACCESS_READ_EXECUTE ||
           access == MMF_ACCESS_COPY_ON_WRITE;
}

int mmf__access_can_write(int access)
{
    return access == MMF_ACCESS_READ_WRITE || access == MMF_ACCESS_WRITE ||
           access == MMF_ACCESS_COPY_ON_WRITE ||
           access == MMF_ACCESS_READ_WRITE_EXECUTE;
}

int mmf__access_can_read(int access)
{
    return access != MMF_ACCESS_WRITE;
}

int mmf__access_allows(int map_access, int view_access)
{
    /* Bit i set: view access i allowed (the .NET matrix). */
    static const unsigned allowed[6] = {
        /* READ_WRITE */ (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3),
        /* READ */ (1u << 1) | (1u << 3),
        /* WRITE */ (1u << 2),
        /* COPY_ON_WRITE */ (1u << 1) | (1u << 3),
        /* READ_EXECUTE */ (1u << 1) | (1u << 3) | (1u << 4),
        /* READ_WRITE_EXECUTE */ 0x3fu,
    };
    if (!valid_access(map_access) || !valid_access(view_access))
        return 0;
    return (allowed[map_access] >> view_access) & 1u;
}

/* Builds the mmf_file around a handle that is already ours. */
static int make_file(mmf_handle h, int kind, uint64_t capacity, int access,
                     unsigned flags, int created, const char *name,
                     const char *path, mmf_file **out)
{
    mmf_file *f = calloc(1, sizeof *f);
    int rc;

    if (f == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    atomic_init(&f->refs, 1);
    atomic_init(&f->dir_synced, 0);
    f->handle = h;
    f->section = MMF_INVALID_HANDLE;
    f->holder.fd = MMF_INVALID_HANDLE;
    f->kind = kind;
    f->capacity = capacity;
    f->access = access;
    f->flags = flags;
    f->created = created;
    if ((name && (rc = mmf__strdup(name, &f->name)) != MMF_OK) ||
        (path && (rc = mmf__strdup(path, &f->path)) != MMF_OK) ||
        (rc = mmf__io_init(f)) != MMF_OK) {
        free(f->name);
        free(f->path);
        free(f);
        return rc;
    }
    *out = f;
    return MMF_OK;
}

/* Frees an mmf_file that make_file built, without closing its handles. */
static void discard_file(mmf_file *f)
{
    mmf__io_teardown(f);
    if (f->section != MMF_INVALID_HANDLE)
        mmf__os_close_handle(f->section);
    free(f->name);
    free(f->path);
    free(f);
}

/*
 * The part shared by mmf_create_from_file and mmf_create_from_handle, once
 * the handle `h` (ours) is open: the capacity rules, growth, and the probe.
 * On failure everything this call did is undone, except a truncation by
 * MMF_MODE_CREATE, and `h` is closed.
 */
static int finish_persisted(mmf_handle h, int by_handle, const char *path,
                            int created, int truncate, uint64_t capacity,
                            int access, unsigned flags, const char *name,
                            void *token, mmf_file **out)
{
    int kind, rc;
    uint64_t size, cap = capacity;
    int grown = 0;
    mmf_handle reg = MMF_INVALID_HANDLE;
    int deferred;
    char *abs;

    rc = mmf__os_handle_info(h, by_handle, &kind, &size);
    if (rc != MMF_OK)
        goto fail;
    /* A libmmf object's data passed as a handle: become one of its
     * holders, and take its exact capacity from its registration. */
    if (kind == MMF__KIND_SHM && token == NULL) {
        rc = mmf__os_reg_attach(h, &reg, &size);
        if (rc != MMF_OK)
            goto fail;
    }
    /* Opening rules first (type, then whether the OS lets us map it this
     * way), then MMF_MODE_CREATE's truncation, then the size rules. */
    if (kind == MMF__KIND_UNSUP) {
        rc = mmf__fail(MMF_ENOTSUP, 0);
        goto fail;
    }
    /* The probe's refusals (execute on a noexec mount, descriptor rights)
     * belong to opening; its resource failures (MMF_ENOMEM) come last. */
    deferred = mmf__os_probe(h, kind, access);
    if (deferred == MMF_EACCES || deferred == MMF_ENOTSUP) {
        rc = deferred;
        goto fail;
    }
    if (truncate && kind == MMF__KIND_FILE && size > 0) {
        if (deferred == MMF_OK) {
            rc = mmf__os_grow(h, size, 0, 0);
            if (rc != MMF_OK)
                goto fail;
        }
        size = 0;
    }
    switch (kind) {
    case MMF__KIND_DEVICE:
        if (cap == 0) {
            rc = mmf__fail(MMF_EINVAL, 0);
            goto fail;
        }
        break;
    case MMF__KIND_BLOCK:
        if (cap == 0) {
            rc = mmf__fail(MMF_EINVAL, 0);
            goto fail;
        }
        if (cap > size) {
            rc = mmf__fail(MMF_ERANGE, 0);
            goto fail;
        }
        break;
    case MMF__KIND_SHM:
        if (cap == 0)
            cap = size;
        if (cap == 0) {
            rc = mmf__fail(MMF_EINVAL, 0);
            goto fail;
        }
        if (cap != size) {
            rc = mmf__fail(MMF_ERANGE, 0);
            goto fail;
        }
        break;
    default: /* regular file */
        if (cap == 0)
            cap = size;
        if (cap == 0) {
            rc = mmf__fail(MMF_EINVAL, 0);
            goto fail;
        }
        if (cap < size) {
            rc = mmf__fail(MMF_ERANGE, 0);
            goto fail;
        }
        if (cap > size && read_only_access(access)) {
            rc = mmf__fail(MMF_EINVAL, 0);
            goto fail;
        }
        break;
    }
    if (deferred != MMF_OK) {
        rc = deferred;
        goto fail;
    }
    if (kind == MMF__KIND_FILE && cap > size) {
        rc = mmf__os_grow(h, size, cap, (flags & MMF_OPT_DELAY_ALLOCATE) == 0);
        if (rc != MMF_OK)
            goto fail;
        grown = 1;
    }
    /* A created file's absolute path, for the directory fsync of a
     * durable flush even after a chdir(). */
    abs = created && path ? mmf__os_abspath(path) : NULL;
    rc = make_file(h, kind, cap, access, flags, created, name, abs ? abs : path,
                   out);
    free(abs);
    if (rc == MMF_OK) {
        rc = mmf__os_file_init(*out);
        if (rc == MMF_OK && token != NULL) {
            rc = mmf__os_reg_publish(token, *out);
            token = NULL; /* consumed either way */
        }
        if (rc != MMF_OK) {
            discard_file(*out);
            *out = NULL;
        }
    }
    if (rc == MMF_OK) {
        if (reg != MMF_INVALID_HANDLE) {
            (*out)->holder.fd = reg;
            (*out)->holder.kind = 1;
            mmf__os_reg_track(&(*out)->holder);
        }
        return MMF_OK;
    }
    if (grown && !created) {
        /* Give the file its old length back. */
        (void)mmf__os_grow(h, cap, size, 0);
    }
fail:
    if (token != NULL)
        mmf__os_reg_cancel(token);
    if (reg != MMF_INVALID_HANDLE)
        mmf__os_close_handle(reg);
    if (created && path)
        mmf__os_remove_created(path, h);
    mmf__os_close_handle(h);
    return rc;
}

int mmf_create_from_file(const char *path, int mode, const char *name,
                         uint64_t capacity, int access, unsigned flags,
                         mmf_file **out)
{
    mmf_handle h;
    int created = 0, truncate = 0, rc;
    void *token = NULL;

    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    if (path == NULL || path[0] == '\0' || mode < MMF_MODE_CREATE_NEW ||
        mode > MMF_MODE_OPEN_OR_CREATE || !valid_access(access) ||
        access == MMF_ACCESS_WRITE || (flags & ~CREATE_FLAGS) != 0 ||
        (name != NULL && mmf__check_name(name) != MMF_OK))
        return mmf__fail(MMF_EINVAL, 0);
    if (read_only_access(access) &&
        (mode == MMF_MODE_CREATE_NEW || mode == MMF_MODE_CREATE))
        return mmf__fail(MMF_EINVAL, 0);
    if (capacity == 0 &&
        (mode == MMF_MODE_CREATE_NEW || mode == MMF_MODE_CREATE))
        return mmf__fail(MMF_EINVAL, 0);
    if (capacity >= MMF__MAX_CAPACITY)
        return mmf__fail(MMF_ERANGE, 0);
    /* A name is reserved (MMF_EEXIST if live) before the file is touched. */
    if (name != NULL && (rc = mmf__os_reg_reserve(name, &token)) != MMF_OK)
        return rc;
    rc = mmf__os_open_file(path, mode, !read_only_access(access),
                           !read_only_access(access) && capacity > 0,
                           (flags & MMF_OPT_INHERITABLE) != 0, &h, &created,
                           &truncate);
    if (rc != MMF_OK) {
        mmf__os_reg_cancel(token);
        return rc;
    }
    return finish_persisted(h, 0, path, created, truncate, capacity, access,
                            flags, name, token, out);
}

int mmf_create_from_handle(mmf_handle handle, const char *name,
                           uint64_t capacity, int access, unsigned flags,
                           mmf_file **out)
{
    mmf_handle h;
    int rc;
    void *token = NULL;

    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    if (handle == MMF_INVALID_HANDLE || !valid_access(access) ||
        access == MMF_ACCESS_WRITE || (flags & ~CREATE_FLAGS) != 0 ||
        (name != NULL && mmf__check_name(name) != MMF_OK))
        return mmf__fail(MMF_EINVAL, 0);
    if (capacity >= MMF__MAX_CAPACITY)
        return mmf__fail(MMF_ERANGE, 0);
    if (name != NULL && (rc = mmf__os_reg_reserve(name, &token)) != MMF_OK)
        return rc;
    rc = mmf__os_dup_handle(handle, !read_only_access(access),
                            (flags & MMF_OPT_INHERITABLE) != 0, &h);
    if (rc != MMF_OK) {
        mmf__os_reg_cancel(token);
        return rc;
    }
    return finish_persisted(h, 1, NULL, 0, 0, capacity, access, flags, name,
                            token, out);
}

/* Builds the mmf_file of a named map the backend created or opened. */
static int make_named(mmf__named *res, int access, unsigned flags,
                      const char *name, mmf_file **out)
{
    int rc = MMF_OK;

    if (flags & MMF_OPT_INHERITABLE)
        rc = mmf__os_set_inheritable(res->handle, 1);
    if (rc == MMF_OK)
        rc = make_file(res->handle, res->kind, res->capacity, access, flags,
                       res->created, name, res->path, out);
    free(res->path);
    if (rc != MMF_OK) {
        /* Out of memory after the fact: drop the holder lock; a name left
         * without holders is removed by the next call on it. */
        mmf__os_close_handle(res->reg);
        mmf__os_close_handle(res->handle);
        return rc;
    }
    if (res->reg != MMF_INVALID_HANDLE) {
        (*out)->holder.fd = res->reg;
        (*out)->holder.kind = 1;
        mmf__os_reg_track(&(*out)->holder);
    }
    return MMF_OK;
}

/* Argument checks shared by mmf_create_new and mmf_create_or_open. */
static int check_new_args(const char *name, uint64_t capacity, int access,
                          unsigned flags, mmf_file **out)
{
    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    if (capacity == 0 || !valid_access(access) || access == MMF_ACCESS_WRITE ||
        (flags & ~ALL_FLAGS) != 0 ||
        ((flags & MMF_OPT_KEEP_NAME) && name == NULL) ||
        (name != NULL && mmf__check_name(name) != MMF_OK))
        return mmf__fail(MMF_EINVAL, 0);
    if (capacity >= MMF__MAX_CAPACITY)
        return mmf__fail(MMF_ERANGE, 0);
    return MMF_OK;
}

int mmf_create_new(const char *name, uint64_t capacity, int access,
                   unsigned flags, mmf_file **out)
{
    mmf_handle h;
    int rc = check_new_args(name, capacity, access, flags, out);

    if (rc != MMF_OK)
        return rc;
    if (name != NULL) {
        mmf__named res;
        rc = mmf__os_named_create(name, capacity, access, flags, 0, &res);
        return rc == MMF_OK ? make_named(&res, access, flags, name, out) : rc;
    }
    rc = mmf__os_anon_create(capacity, access,
                             (flags & MMF_OPT_DELAY_ALLOCATE) == 0,
                             (flags & MMF_OPT_INHERITABLE) != 0, &h);
    if (rc != MMF_OK)
        return rc;
    /* Only execute access can be refused for anonymous memory. */
    if (access == MMF_ACCESS_READ_EXECUTE ||
        access == MMF_ACCESS_READ_WRITE_EXECUTE)
        rc = mmf__os_probe(h, MMF__KIND_SHM, access);
    if (rc == MMF_OK)
        rc = make_file(h, MMF__KIND_SHM, capacity, access, flags, 1, NULL, NULL,
                       out);
    if (rc != MMF_OK)
        mmf__os_close_handle(h);
    return rc;
}

int mmf_create_or_open(const char *name, uint64_t capacity, int access,
                       unsigned flags, mmf_file **out)
{
    int rc = check_new_args(name, capacity, access, flags, out);
    mmf__named res;

    if (rc != MMF_OK)
        return rc;
    if (name == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    rc = mmf__os_named_create(name, capacity, access, flags, 1, &res);
    return rc == MMF_OK ? make_named(&res, access, flags, name, out) : rc;
}

int mmf_open_existing(const char *name, int access, unsigned flags,
                      mmf_file **out)
{
    mmf__named res;
    int rc;

    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    if (mmf__check_name(name) != MMF_OK || !valid_access(access) ||
        (flags & ~CREATE_FLAGS) != 0)
        return mmf__fail(MMF_EINVAL, 0);
    rc = mmf__os_named_open(name, access, flags, &res);
    return rc == MMF_OK ? make_named(&res, access, flags, name, out) : rc;
}

int mmf_unlink(const char *name)
{
    if (mmf__check_name(name) != MMF_OK)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_unlink(name);
}

void mmf__file_release(mmf_file *f)
{
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (f->holder.fd != MMF_INVALID_HANDLE)
        mmf__os_reg_release(&f->holder, f->name);
    if (f->section != MMF_INVALID_HANDLE)
        mmf__os_close_handle(f->section);
    mmf__os_close_handle(f->handle);
    free(f->name);
    free(f->path);
    free(f);
}

int mmf_close(mmf_file *f)
{
    if (f == NULL)
        return MMF_OK;
    mmf__io_teardown(f);
    mmf__file_release(f);
    return MMF_OK;
}

uint64_t mmf_capacity(const mmf_file *f)
{
    return f ? f->capacity : 0;
}

int mmf_access_of(const mmf_file *f)
{
    return f ? f->access : mmf__fail(MMF_EINVAL, 0);
}

const char *mmf_name(const mmf_file *f)
{
    return f ? f->name : NULL;
}

int mmf_created(const mmf_file *f)
{
    return f ? f->created : 0;
}

mmf_handle mmf_handle_of(const mmf_file *f)
{
    return f ? f->handle : MMF_INVALID_HANDLE;
}

int mmf_set_inheritable(mmf_file *f, int inheritable)
{
    int rc;

    if (f == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    rc = mmf__os_set_inheritable(f->handle, inheritable != 0);
    if (rc == MMF_OK && f->section != MMF_INVALID_HANDLE)
        rc = mmf__os_set_inheritable(f->section, inheritable != 0);
    if (rc == MMF_OK && f->holder.fd != MMF_INVALID_HANDLE)
        rc = mmf__os_reg_set_inheritable(f->holder.fd, inheritable != 0);
    return rc;
}

int mmf_set_permissions(mmf_file *f, unsigned mode)
{
    int rc;

    if (f == NULL || (mode & ~0777u) != 0)
        return mmf__fail(MMF_EINVAL, 0);
    /* The registration first: a caller who does not own the object fails
     * there (MMF_EPERM) before anything changed. */
    if (f->holder.fd != MMF_INVALID_HANDLE &&
        (rc = mmf__os_reg_set_permissions(f->holder.fd, mode)) != MMF_OK)
        return rc;
    /* A Windows persisted map: its file, then its (named) section. */
    rc = mmf__os_set_permissions(f->handle, mode);
    if (rc == MMF_OK && f->section != MMF_INVALID_HANDLE)
        rc = mmf__os_set_permissions(f->section, mode);
    return rc;
}

int mmf_get_permissions(const mmf_file *f, unsigned *mode)
{
    if (f == NULL || mode == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_get_permissions(f->handle, mode);
}

size_t mmf_page_size(void)
{
    return mmf__os_page_size();
}

size_t mmf_allocation_granularity(void)
{
    return mmf__os_granularity();
}
