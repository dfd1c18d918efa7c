/* Version, error texts, the per-thread OS error, name rules. */
#include "mmf_internal.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local int last_os_error;

unsigned mmf_version(void)
{
    return MMF_VERSION_NUMBER;
}

const char *mmf_version_string(void)
{
#define MMF__STR2(x) #x
#define MMF__STR(x) MMF__STR2(x)
    return MMF__STR(MMF_VERSION_MAJOR) "." MMF__STR(
        MMF_VERSION_MINOR) "." MMF__STR(MMF_VERSION_PATCH);
}

static const struct {
    int code;
    const char *name;
    const char *text;
} errors[] = {
    {MMF_OK, "MMF_OK", "success"},
    {MMF_EINVAL, "MMF_EINVAL", "invalid argument"},
    {MMF_ERANGE, "MMF_ERANGE", "offset, size or position out of range"},
    {MMF_ENOENT, "MMF_ENOENT", "no such file or named object"},
    {MMF_EEXIST, "MMF_EEXIST", "file or named object already exists"},
    {MMF_EACCES, "MMF_EACCES", "access denied"},
    {MMF_ENOSPC, "MMF_ENOSPC", "no space to commit storage"},
    {MMF_ENOMEM, "MMF_ENOMEM", "out of memory or address space"},
    {MMF_EIO, "MMF_EIO", "I/O error or backing file shrank"},
    {MMF_ENOTSUP, "MMF_ENOTSUP", "not supported"},
    {MMF_ENAMETOOLONG, "MMF_ENAMETOOLONG", "path too long"},
    {MMF_EBUSY, "MMF_EBUSY", "busy: held or in use elsewhere"},
    {MMF_ETIMEDOUT, "MMF_ETIMEDOUT", "timed out"},
    {MMF_EOWNERDEAD, "MMF_EOWNERDEAD",
     "mutex acquired; its previous owner died holding it"},
    {MMF_EPERM, "MMF_EPERM", "operation not permitted"},
    {MMF_EFORMAT, "MMF_EFORMAT",
     "object exists but is not of the expected kind or layout"},
};

const char *mmf_strerror(int err)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == err)
            return errors[i].text;
    return "unknown error";
}

const char *mmf_errname(int err)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == err)
            return errors[i].name;
    return "MMF_EUNKNOWN";
}

int mmf_last_os_error(void)
{
    return last_os_error;
}

int mmf__fail(int code, int os_error)
{
    last_os_error = os_error;
    return code;
}

int mmf__strdup(const char *s, char **out)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p == NULL)
        return mmf__fail(MMF_ENOMEM, 0);
    memcpy(p, s, n);
    *out = p;
    return MMF_OK;
}

int mmf__check_name(const char *name)
{
    static const char local[] = "Local\\";
    static const char global[] = "Global\\";
    size_t len;
    const char *p = name;

    if (name == NULL)
        return MMF_EINVAL;
    len = strlen(name);
    if (len == 0 || len > 250)
        return MMF_EINVAL;
    if (strncmp(p, local, sizeof local - 1) == 0)
        p += sizeof local - 1;
    else if (strncmp(p, global, sizeof global - 1) == 0)
        p += sizeof global - 1;
    if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
        return MMF_EINVAL;
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e || c == '/' || c == '\\')
            return MMF_EINVAL;
    }
    return MMF_OK;
}
