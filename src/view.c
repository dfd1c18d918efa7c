/* Views, streams, flush and advice. */
#include "mmf_internal.h"

#include <stdlib.h>
#include <string.h>

struct mmf_stream {
    mmf_view *view;
    uint64_t pos;
};

/* [pos, pos+len) inside a view of `size` bytes (len 0: to the end)? */
static int range_in(uint64_t size, uint64_t pos, uint64_t *len)
{
    if (pos > size)
        return 0;
    if (*len == 0)
        *len = size - pos;
    return *len <= size - pos;
}

int mmf__view_map(mmf_file *f, uint64_t offset, uint64_t size, int access,
                  mmf_view **out)
{
    size_t gran = mmf__os_granularity();
    size_t ptr_off = (size_t)(offset % gran);
    uint64_t aligned = offset - ptr_off;
    mmf_view *v;
    void *base;
    int rc;

    if (size > (uint64_t)SIZE_MAX - ptr_off)
        return mmf__fail(MMF_ENOMEM, 0);
    v = calloc(1, sizeof *v);
    if (v == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    rc = mmf__os_map(f, aligned, (size_t)size + ptr_off, access, &base);
    if (rc != MMF_OK) {
        free(v);
        return rc;
    }
    v->head.data = (unsigned char *)base + ptr_off;
    v->head.size = size;
    v->head.access = access;
    v->head.poisoned = 0;
    v->file = f;
    v->offset = offset;
    v->base = base;
    v->map_len = (size_t)size + ptr_off;
    v->ptr_off = ptr_off;
    rc = mmf__os_guard_add(v);
    if (rc != MMF_OK) {
        mmf__os_unmap(base, v->map_len);
        free(v);
        return rc;
    }
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    *out = v;
    return MMF_OK;
}

static int view_open(mmf_file *f, uint64_t offset, uint64_t size, int access,
                     mmf_view **out)
{
    mmf_view *v;

    if (f == NULL || access < 0 || access > MMF_ACCESS_READ_WRITE_EXECUTE)
        return mmf__fail(MMF_EINVAL, 0);
    if (offset > f->capacity)
        return mmf__fail(MMF_ERANGE, 0);
    if (size == 0)
        size = f->capacity - offset;
    else if (size > f->capacity - offset)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_allows(f->access, access))
        return mmf__fail(MMF_EACCES, 0);
    if (size > 0) {
        /* A delay-allocated shared-memory map commits each writable view's
         * range as it opens, so that a full tmpfs is MMF_ENOSPC here. */
        if (f->kind == MMF__KIND_SHM && (f->flags & MMF_OPT_DELAY_ALLOCATE) &&
            mmf__access_can_write(access) &&
            access != MMF_ACCESS_COPY_ON_WRITE) {
            int rc = mmf__os_commit(f->handle, offset, size);
            if (rc != MMF_OK)
                return rc;
        }
        return mmf__view_map(f, offset, size, access, out);
    }

    /* The empty view at the end of the map: no mapping at all. */
    v = calloc(1, sizeof *v);
    if (v == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    v->head.access = access;
    v->file = f;
    v->offset = offset;
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
    *out = v;
    return MMF_OK;
}

int mmf_view_open(mmf_file *f, uint64_t offset, uint64_t size, int access,
                  mmf_view **out)
{
    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    return view_open(f, offset, size, access, out);
}

static void view_free(mmf_view *v)
{
    mmf_file *f = v->file;

    if (v->base != NULL) {
        mmf__os_guard_remove(v);
        mmf__os_unmap(v->base, v->map_len);
    }
    free(v);
    mmf__file_release(f);
}

int mmf_view_close(mmf_view *v)
{
    if (v == NULL)
        return MMF_OK;
    if (v->stream_owned)
        return mmf__fail(MMF_EINVAL, 0);
    view_free(v);
    return MMF_OK;
}

void *mmf_view_data(const mmf_view *v)
{
    return v ? v->head.data : NULL;
}

uint64_t mmf_view_size(const mmf_view *v)
{
    return v ? v->head.size : 0;
}

uint64_t mmf_view_offset(const mmf_view *v)
{
    return v ? v->offset : 0;
}

size_t mmf_view_pointer_offset(const mmf_view *v)
{
    return v ? (size_t)(v->offset % mmf__os_granularity()) : 0;
}

int mmf_view_access(const mmf_view *v)
{
    return v ? v->head.access : mmf__fail(MMF_EINVAL, 0);
}

int mmf_view_read(const mmf_view *v, uint64_t pos, void *dst, size_t n)
{
    if (v == NULL || (dst == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (pos > v->head.size || v->head.size - pos < n)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_read(v->head.access))
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    if (v->head.poisoned)
        return mmf__fail(MMF_EIO, 0);
    memcpy(dst, v->head.data + pos, n);
    MMF__BARRIER();
    if (v->head.poisoned)
        return mmf__fail(MMF_EIO, 0);
    return MMF_OK;
}

int mmf_view_write(mmf_view *v, uint64_t pos, const void *src, size_t n)
{
    if (v == NULL || (src == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (pos > v->head.size || v->head.size - pos < n)
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_write(v->head.access))
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    if (v->head.poisoned)
        return mmf__fail(MMF_EIO, 0);
    memcpy(v->head.data + pos, src, n);
    MMF__BARRIER();
    if (v->head.poisoned)
        return mmf__fail(MMF_EIO, 0);
    return MMF_OK;
}

static int valid_flush_flags(unsigned flags)
{
    return flags == MMF_FLUSH_SYNC || flags == MMF_FLUSH_ASYNC ||
           flags == MMF_FLUSH_DURABLE;
}

int mmf_view_flush(mmf_view *v, uint64_t pos, uint64_t len, unsigned flags)
{
    size_t page = mmf__os_page_size();
    uint64_t start, end;

    if (v == NULL || !valid_flush_flags(flags))
        return mmf__fail(MMF_EINVAL, 0);
    if (!range_in(v->head.size, pos, &len))
        return mmf__fail(MMF_ERANGE, 0);
    if (v->head.access == MMF_ACCESS_COPY_ON_WRITE ||
        v->file->kind == MMF__KIND_SHM || len == 0)
        return MMF_OK;
    /* Offsets within the OS mapping, widened to whole pages. */
    start = (v->ptr_off + pos) / page * page;
    end = v->ptr_off + pos + len;
    return mmf__os_flush_mapping(v->file, (char *)v->base + start,
                                 (size_t)(end - start),
                                 v->offset - v->ptr_off + start, flags);
}

int mmf_view_advise(mmf_view *v, uint64_t pos, uint64_t len, int advice)
{
    size_t page = mmf__os_page_size();
    uint64_t start, end;

    if (v == NULL || advice < MMF_ADVICE_NORMAL || advice > MMF_ADVICE_POPULATE)
        return mmf__fail(MMF_EINVAL, 0);
    if (!range_in(v->head.size, pos, &len))
        return mmf__fail(MMF_ERANGE, 0);
    if (len == 0)
        return MMF_OK;
    start = (v->ptr_off + pos) / page * page;
    end = v->ptr_off + pos + len;
    return mmf__os_advise(v, (char *)v->base + start, (size_t)(end - start),
                          advice);
}

/* ---- streams ---- */

int mmf_stream_open(mmf_file *f, uint64_t offset, uint64_t size, int access,
                    mmf_stream **out)
{
    mmf_stream *s;
    mmf_view *v;
    int rc;

    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    rc = view_open(f, offset, size, access, &v);
    if (rc != MMF_OK)
        return rc;
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        view_free(v);
        return mmf__fail(MMF_ENOMEM, 0);
    }
    v->stream_owned = 1;
    s->view = v;
    *out = s;
    return MMF_OK;
}

int mmf_stream_close(mmf_stream *s)
{
    if (s == NULL)
        return MMF_OK;
    view_free(s->view);
    free(s);
    return MMF_OK;
}

int mmf_stream_read(mmf_stream *s, void *buf, size_t n, size_t *nread)
{
    uint64_t size, left;
    size_t k;
    int rc;

    if (nread)
        *nread = 0;
    if (s == NULL || (buf == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    if (!mmf__access_can_read(s->view->head.access))
        return mmf__fail(MMF_EACCES, 0);
    size = s->view->head.size;
    left = s->pos < size ? size - s->pos : 0;
    k = left < n ? (size_t)left : n;
    if (k == 0)
        return MMF_OK;
    rc = mmf_view_read(s->view, s->pos, buf, k);
    if (rc != MMF_OK)
        return rc;
    s->pos += k;
    if (nread)
        *nread = k;
    return MMF_OK;
}

int mmf_stream_write(mmf_stream *s, const void *buf, size_t n)
{
    uint64_t size;
    int rc;

    if (s == NULL || (buf == NULL && n > 0))
        return mmf__fail(MMF_EINVAL, 0);
    size = s->view->head.size;
    if (n > 0 && (s->pos > size || size - s->pos < n))
        return mmf__fail(MMF_ERANGE, 0);
    if (!mmf__access_can_write(s->view->head.access))
        return mmf__fail(MMF_EACCES, 0);
    if (n == 0)
        return MMF_OK;
    rc = mmf_view_write(s->view, s->pos, buf, n);
    if (rc != MMF_OK)
        return rc;
    s->pos += n;
    return MMF_OK;
}

int mmf_stream_seek(mmf_stream *s, int64_t off, int whence, uint64_t *newpos)
{
    uint64_t base, pos;

    if (s == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    switch (whence) {
    case MMF_SEEK_SET:
        base = 0;
        break;
    case MMF_SEEK_CUR:
        base = s->pos;
        break;
    case MMF_SEEK_END:
        base = s->view->head.size;
        break;
    default:
        return mmf__fail(MMF_EINVAL, 0);
    }
    if (off < 0) {
        uint64_t back = (uint64_t)(-(off + 1)) + 1; /* no overflow */
        if (back > base)
            return mmf__fail(MMF_ERANGE, 0);
        pos = base - back;
    } else {
        if ((uint64_t)off > UINT64_MAX - base)
            return mmf__fail(MMF_ERANGE, 0);
        pos = base + (uint64_t)off;
    }
    s->pos = pos;
    if (newpos)
        *newpos = pos;
    return MMF_OK;
}

uint64_t mmf_stream_tell(const mmf_stream *s)
{
    return s ? s->pos : 0;
}

uint64_t mmf_stream_length(const mmf_stream *s)
{
    return s ? s->view->head.size : 0;
}

int mmf_stream_flush(mmf_stream *s, unsigned flags)
{
    if (s == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf_view_flush(s->view, 0, 0, flags);
}

mmf_view *mmf_stream_view(mmf_stream *s)
{
    return s ? s->view : NULL;
}
