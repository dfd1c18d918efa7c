/* The named mutex and the inspection of named objects: argument checks;
 * the backend does the rest. */
#include "mmf_internal.h"

int mmf_mutex_create(const char *name, int initially_owned, unsigned flags,
                     mmf_mutex **out)
{
    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    if ((flags & ~MMF_OPT_INHERITABLE) != 0 ||
        (name != NULL && mmf__check_name(name) != MMF_OK))
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_create(name, initially_owned != 0, flags, out);
}

int mmf_mutex_open_existing(const char *name, mmf_mutex **out)
{
    if (out == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    *out = NULL;
    if (mmf__check_name(name) != MMF_OK)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_open(name, out);
}

int mmf_mutex_lock(mmf_mutex *m)
{
    if (m == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_lock(m, MMF_WAIT_FOREVER, 0);
}

int mmf_mutex_timedlock(mmf_mutex *m, uint32_t timeout_ms)
{
    if (m == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_lock(m, timeout_ms, 0);
}

int mmf_mutex_trylock(mmf_mutex *m)
{
    if (m == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_lock(m, 0, 1);
}

int mmf_mutex_unlock(mmf_mutex *m)
{
    if (m == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_unlock(m);
}

int mmf_mutex_close(mmf_mutex *m)
{
    if (m == NULL)
        return MMF_OK;
    return mmf__os_mutex_close(m);
}

int mmf_mutex_created(const mmf_mutex *m)
{
    return m ? ((const mmf__mutex_head *)(const void *)m)->created : 0;
}

const char *mmf_mutex_name(const mmf_mutex *m)
{
    return m ? ((const mmf__mutex_head *)(const void *)m)->name : NULL;
}

int mmf_mutex_set_permissions(mmf_mutex *m, unsigned mode)
{
    if (m == NULL || (mode & ~0777u) != 0)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_set_permissions(m, mode);
}

int mmf_mutex_get_permissions(const mmf_mutex *m, unsigned *mode)
{
    if (m == NULL || mode == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_mutex_get_permissions(m, mode);
}

/* ---- inspection ---- */

int mmf_stat(const char *name, int kind, mmf_info *out)
{
    if (out == NULL || mmf__check_name(name) != MMF_OK ||
        (kind != MMF_KIND_MAP && kind != MMF_KIND_MUTEX))
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_stat(name, kind, out);
}

int mmf_list(int (*fn)(const mmf_info *info, void *ctx), void *ctx)
{
    if (fn == NULL)
        return mmf__fail(MMF_EINVAL, 0);
    return mmf__os_list(fn, ctx);
}
