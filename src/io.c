/*
 * Map-level I/O: mmf_read / mmf_write / mmf_flush at any 64-bit offset.
 *
 * The map is cut into fixed windows (1 GiB on 64-bit). A window is an
 * internal view, mapped on first use and kept until mmf_close, found through
 * a two-level table of atomic pointers: the fast path is two acquire loads,
 * no system call and no lock. Creating or replacing a window takes a lock.
 * A window that met a fault (poisoned) is replaced by a fresh mapping on the
 * next call; the old one is kept until mmf_close, since another thread may
 * still be copying through it.
 */
#include "mmf_internal.h"

#include <stdlib.h>
#include <string.h>

#if UINTPTR_MAX > 0xffffffffu
#define WIN_SHIFT 30 /* 1 GiB windows */
#else
#define WIN_SHIFT 25 /* 32 MiB windows */
#endif
#define LEAF_BITS 12
#define LEAF_SIZE ((size_t)1 << LEAF_BITS)

typedef _Atomic(struct mmf__window *) win_slot;

struct mmf__window {
    mmf_view *view;
    struct mmf__window *next_retired;
};

int mmf__io_init(mmf_file *f)
{
    uint64_t nwin = ((f->capacity - 1) >> WIN_SHIFT) + 1;
    size_t ntop = (size_t)(((nwin - 1) >> LEAF_BITS) + 1);
    int rc = mmf__os_lock_init(&f->win_lock);

    if (rc != MMF_OK)
        return rc;
    f->win_top = calloc(ntop, sizeof *f->win_top);
    if (f->win_top == NULL) {
        mmf__os_lock_destroy(&f->win_lock);
        return mmf__fail(MMF_ENOMEM, 0);
    }
    f->win_top_count = ntop;
    return MMF_OK;
}

static void window_free(struct mmf__window *w)
{
    mmf_view *v = w->view;

    /* The window's reference on f is not the last one (the user's handle
     * is still held while windows are torn down), so a plain unmap and
     * decrement suffice. */
    mmf__os_guard_remove(v);
    mmf__os_unmap(v->base, v->map_len);
    atomic_fetch_sub_explicit(&v->file->refs, 1, memory_order_relaxed);
    free(v);
    free(w);
}

void mmf__io_teardown(mmf_file *f)
{
    for (size_t t = 0; t < f->win_top_count; t++) {
        win_slot *leaf = atomic_load(&f->win_top[t]);
        if (leaf == NULL)
            continue;
        for (size_t i = 0; i < LEAF_SIZE; i++) {
            struct mmf__window *w = atomic_load(&leaf[i]);
            if (w)
                window_free(w);
        }
        free(leaf);
    }
    while (f->retired) {
        struct mmf__window *w = f->retired;
        f->retired = w->next_retired;
        window_free(w);
    }
    free(f->win_top);
    f->win_top = NULL;
    f->win_top_count = 0;
    mmf__os_lock_destroy(&f->win_lock);
}

/* The access internal windows are mapped with. */
static int window_access(int map_access)
{
    switch (map_access) {
    case MMF_ACCESS_READ_WRITE:
    case MMF_ACCESS_WRITE:
    case MMF_ACCESS_READ_WRITE_EXECUTE:
        return MMF_ACCESS_READ_WRITE;
    default: /* COPY_ON_WRITE maps read the object itself */
        return MMF_ACCESS_READ;
    }
}

/* Slow path: maps (or replaces a poisoned) window `idx` under the lock. */
static int window_make(mmf_file *f, uint64_t idx, struct mmf__window **out)
{
    size_t t = (size_t)(idx >> LEAF_BITS), i = (size_t)(idx & (LEAF_SIZE - 1));
    uint64_t off = idx << WIN_SHIFT, size;
    struct mmf__window *w, *old;
    win_slot *leaf;
    int rc = MMF_OK;

    mmf__os_lock(&f->win_lock);
    leaf = atomic_load(&f->win_top[t]);
    if (leaf == NULL) {
        leaf = calloc(LEAF_SIZE, sizeof *leaf);
        if (leaf == NULL) {
            rc = mmf__fail(MMF_ENOMEM, 0);
            goto out;
        }
        atomic_store_explicit(&f->win_top[t], leaf, memory_order_release);
    }
    old = atomic_load(&leaf[i]);
    if (old != NULL && !old->view->head.poisoned) {
        *out = old; /* another thread made it meanwhile */
        goto out;
    }
    w = calloc(1, sizeof *w);
    if (w == NULL) {
        rc = mmf__fail(MMF_ENOMEM, 0);
        goto out;
    }
    size = f->capacity - off;
    if (size > ((uint64_t)1 << WIN_SHIFT))
        size = (uint64_t)1 << WIN_SHIFT;
    rc = mmf__view_map(f, off, size, window_access(f->access), &w->view);
    if (rc != MMF_OK) {
        free(w);
        goto out;
    }
    if (old != NULL) {
        old->next_retired = f->retired;
        f->retired = old;
    }
    atomic_store_explicit(&leaf[i], w, memory_order_release);
    *out = w;
out:
    mmf__os_unlock(&f->win_lock);
    return rc;
}

static inline int window_get(mmf_file *f, uint64_t idx,
                             struct mmf__window **out)
{
    win_slot *leaf = atomic_load_explicit(&f->win_top[idx >> LEAF_BITS],
                                          memory_order_acquire);
    if (leaf != NULL) {
        struct mmf__window *w = atomic_load_explicit(
            &leaf[idx & (LEAF_SIZE - 1)], memory_order_acquire);
        if (w != NULL && !w->view->head.poisoned) {
            *out = w;
            return MMF_OK;
        }
    }
    return window_make(f, idx, out);
}

/* Copies between the map and a buffer, window by window. */
static int transfer(mmf_file *f, uint64_t offset, unsigned char *buf, size_t n,
                    int writing)
{
    while (n > 0) {
        uint64_t idx = offset >> WIN_SHIFT;
        uint64_t in_win = offset & (((uint64_t)1 << WIN_SHIFT) - 1);
        uint64_t room = ((uint64_t)1 << WIN_SHIFT) - in_win;
        size_t k = room < n ? (size_t)room : n;
        struct mmf__window *w = NULL;
        mmf_view *v;
        int rc = window_get(f, idx, &w);

        if (rc != MMF_OK)
            return rc;
        v = w->view;
        if (writing)
            memcpy(v->head.data + in_win, buf, k);
        else
            memcpy(buf, v->head.data + in_win, k);
        MMF__BARRIER();
        if (v->head.poisoned)
            return mmf__fail(MMF_EIO, 0);
        offset += k;
        buf += k;
        n -= k;
    }
    return MMF_OK;
}

int mmf_read(mmf_file *f, uint64_t offset, void *dst, size_t n)
{
    if (f == NULL || (dst == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity || f->capacity - offset < n)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_read(f->access))
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    return transfer(f, offset, dst, n, 0);
}

int mmf_write(mmf_file *f, uint64_t offset, const void *src, size_t n)
{
    if (f == NULL || (src == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity || f->capacity - offset < n)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_write(f->access) ||
        f->access == MMF_ACCESS_COPY_ON_WRITE)
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    return transfer(f, offset, (unsigned char *)(uintptr_t)src, n, 1);
}

int mmf_flush(mmf_file *f, uint64_t offset, uint64_t len, unsigned flags)
{
    if (f == NULL || (flags != MMF_FLUSH_SYNC && flags != MMF_FLUSH_ASYNC &&
                      flags != MMF_FLUSH_DURABLE))
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity)
        return mmf__fail(MMF_ERANGE, 0);
    if (len == 0)
        len = f->capacity - offset;
    else if (len > f->capacity - offset)
        return mmf__fail(MMF_ERANGE, 0);
    if (f->kind == MMF__KIND_SHM || f->access == MMF_ACCESS_COPY_ON_WRITE ||
        len == 0)
        return MMF_OK;
    return mmf__os_flush_range(f, offset, len, flags);
}
