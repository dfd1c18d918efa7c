/* Version, error names and texts. */
#include "test.h"

TEST(errors_version)
{
    CHECK_EQ(mmf_version(), MMF_VERSION_NUMBER);
    CHECK_EQ(MMF_VERSION_NUMBER, 100);
    CHECK(strcmp(mmf_version_string(), "0.1.0") == 0);
}

TEST(errors_names_and_values)
{
    static const struct {
        int code, value;
        const char *name;
    } table[] = {
        {MMF_OK, 0, "MMF_OK"},
        {MMF_EINVAL, -1, "MMF_EINVAL"},
        {MMF_ERANGE, -2, "MMF_ERANGE"},
        {MMF_ENOENT, -3, "MMF_ENOENT"},
        {MMF_EEXIST, -4, "MMF_EEXIST"},
        {MMF_EACCES, -5, "MMF_EACCES"},
        {MMF_ENOSPC, -6, "MMF_ENOSPC"},
        {MMF_ENOMEM, -7, "MMF_ENOMEM"},
        {MMF_EIO, -8, "MMF_EIO"},
        {MMF_ENOTSUP, -9, "MMF_ENOTSUP"},
        {MMF_ENAMETOOLONG, -10, "MMF_ENAMETOOLONG"},
        {MMF_EBUSY, -11, "MMF_EBUSY"},
        {MMF_ETIMEDOUT, -12, "MMF_ETIMEDOUT"},
        {MMF_EOWNERDEAD, -13, "MMF_EOWNERDEAD"},
        {MMF_EPERM, -14, "MMF_EPERM"},
        {MMF_EFORMAT, -15, "MMF_EFORMAT"},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        CHECK_EQ(table[i].code, table[i].value);
        CHECK(strcmp(mmf_errname(table[i].code), table[i].name) == 0);
        CHECK(mmf_strerror(table[i].code) != NULL);
        CHECK(strcmp(mmf_strerror(table[i].code), "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(mmf_strerror(table[i].code),
                         mmf_strerror(table[j].code)) != 0);
    }
    CHECK(strcmp(mmf_strerror(MMF_OK), "success") == 0);
    CHECK(strcmp(mmf_errname(-16), "MMF_EUNKNOWN") == 0);
    CHECK(strcmp(mmf_errname(1), "MMF_EUNKNOWN") == 0);
    CHECK(strcmp(mmf_errname(INT32_MIN), "MMF_EUNKNOWN") == 0);
    CHECK(strcmp(mmf_strerror(-16), "unknown error") == 0);
    CHECK(strcmp(mmf_strerror(12345), "unknown error") == 0);
}

TEST(errors_enum_values)
{
    CHECK_EQ(MMF_ACCESS_READ_WRITE, 0);
    CHECK_EQ(MMF_ACCESS_READ, 1);
    CHECK_EQ(MMF_ACCESS_WRITE, 2);
    CHECK_EQ(MMF_ACCESS_COPY_ON_WRITE, 3);
    CHECK_EQ(MMF_ACCESS_READ_EXECUTE, 4);
    CHECK_EQ(MMF_ACCESS_READ_WRITE_EXECUTE, 5);
    CHECK_EQ(MMF_MODE_CREATE_NEW, 1);
    CHECK_EQ(MMF_MODE_CREATE, 2);
    CHECK_EQ(MMF_MODE_OPEN, 3);
    CHECK_EQ(MMF_MODE_OPEN_OR_CREATE, 4);
    CHECK_EQ(MMF_OPT_DELAY_ALLOCATE, 1);
    CHECK_EQ(MMF_OPT_INHERITABLE, 2);
    CHECK_EQ(MMF_OPT_KEEP_NAME, 4);
    CHECK_EQ(MMF_FLUSH_SYNC, 0);
    CHECK_EQ(MMF_FLUSH_ASYNC, 1);
    CHECK_EQ(MMF_FLUSH_DURABLE, 2);
    CHECK_EQ(MMF_SEEK_SET, 0);
    CHECK_EQ(MMF_SEEK_CUR, 1);
    CHECK_EQ(MMF_SEEK_END, 2);
    CHECK_EQ(MMF_ADVICE_POPULATE, 5);
    CHECK_EQ(MMF_INVALID_HANDLE, -1);
    CHECK_EQ(MMF_WAIT_FOREVER, UINT32_MAX);
    CHECK_EQ(sizeof(mmf_handle), sizeof(intptr_t));
}

TEST(errors_system)
{
    CHECK(mmf_page_size() >= 4096);
    CHECK_EQ(mmf_page_size() & (mmf_page_size() - 1), 0);
#ifdef _WIN32
    CHECK_EQ(mmf_allocation_granularity(), 65536);
#else
    CHECK_EQ(mmf_allocation_granularity(), mmf_page_size());
#endif
}

/* The raw code of a path whose directory is missing. */
#ifdef _WIN32
#define MISSING_DIR_ERROR 3 /* ERROR_PATH_NOT_FOUND */
#else
#define MISSING_DIR_ERROR 2 /* ENOENT */
#endif

/* Argument errors report no OS error; OS failures report theirs. */
TEST(errors_last_os_error)
{
    mmf_file *f = (mmf_file *)1;

    CHECK_RC(mmf_create_from_file(t_path("missing/x"), MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_ENOENT);
    CHECK(f == NULL);
    CHECK_EQ(mmf_last_os_error(), MISSING_DIR_ERROR);
    CHECK_RC(mmf_create_new(NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f), MMF_EINVAL);
    CHECK_EQ(mmf_last_os_error(), 0);
    /* Success leaves it alone. */
    CHECK_RC(mmf_create_from_file(t_path("missing/x"), MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_ENOENT);
    CHECK_OK(mmf_create_new(NULL, 10, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_last_os_error(), MISSING_DIR_ERROR);
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_close(NULL));
}

/* Name rules and the argument checks of the named functions. */
TEST(errors_names_rules)
{
    static const char *bad[] = {"",
                                "a/b",
                                "a\\b",
                                "\x1f",
                                "\x7f",
                                ".",
                                "..",
                                "Local\\",
                                "Global\\",
                                "Local\\.",
                                "Local\\Global\\x",
                                "local\\x/",
                                "caf\xc3\xa9"};
    char too_long[252];
    mmf_file *f = (mmf_file *)1;

    memset(too_long, 'n', 251);
    too_long[251] = '\0';
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_RC(mmf_create_new(bad[i], 10, MMF_ACCESS_READ_WRITE, 0, &f),
                 MMF_EINVAL);
        CHECK(f == NULL);
        CHECK_RC(mmf_unlink(bad[i]), MMF_EINVAL);
        CHECK_RC(mmf_open_existing(bad[i], MMF_ACCESS_READ, 0, &f), MMF_EINVAL);
    }
    CHECK_RC(mmf_create_new(too_long, 10, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_or_open(NULL, 10, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_or_open("x", 0, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_or_open("x", 10, MMF_ACCESS_WRITE, 0, &f), MMF_EINVAL);
    CHECK_RC(mmf_create_new("x", 10, MMF_ACCESS_WRITE, 0, &f), MMF_EINVAL);
    CHECK_RC(
        mmf_create_new(NULL, 10, MMF_ACCESS_READ_WRITE, MMF_OPT_KEEP_NAME, &f),
        MMF_EINVAL);
    CHECK_RC(mmf_create_new(NULL, 10, MMF_ACCESS_READ_WRITE, 8, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_open_existing("x", 6, 0, &f), MMF_EINVAL);
    CHECK_RC(mmf_open_existing("x", MMF_ACCESS_READ, MMF_OPT_KEEP_NAME, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_open_existing("x", MMF_ACCESS_READ, 0, NULL), MMF_EINVAL);
    CHECK_RC(
        mmf_create_new(NULL, UINT64_C(1) << 63, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_ERANGE);
    CHECK(f == NULL);
}

/* Anonymous maps: zero-filled, exact capacity, committed unless delayed. */
TEST(errors_anonymous_map_basics)
{
    static const int accesses[] = {
        MMF_ACCESS_READ_WRITE, MMF_ACCESS_READ, MMF_ACCESS_COPY_ON_WRITE,
        MMF_ACCESS_READ_EXECUTE, MMF_ACCESS_READ_WRITE_EXECUTE};
    for (size_t i = 0; i < sizeof accesses / sizeof *accesses; i++) {
        for (unsigned flags = 0; flags <= MMF_OPT_DELAY_ALLOCATE; flags++) {
            mmf_file *f = NULL;
            unsigned char buf[100];
            unsigned mode = 0;

            CHECK_OK(mmf_create_new(NULL, 12345, accesses[i], flags, &f));
            CHECK_EQ(mmf_capacity(f), 12345);
            CHECK_EQ(mmf_access_of(f), accesses[i]);
            CHECK_EQ(mmf_created(f), 1);
            CHECK(mmf_name(f) == NULL);
            CHECK(mmf_handle_of(f) >= 0);
            CHECK_OK(mmf_get_permissions(f, &mode));
#ifdef _WIN32
            /* A Windows section of an execute map grants its owner the
             * right to map it for execution. */
            CHECK_EQ(mode, accesses[i] == MMF_ACCESS_READ_EXECUTE ||
                                   accesses[i] == MMF_ACCESS_READ_WRITE_EXECUTE
                               ? 0700
                               : 0600);
#else
            CHECK_EQ(mode, 0600);
#endif
            memset(buf, 0xaa, sizeof buf);
            CHECK_OK(mmf_read(f, 12345 - 100, buf, 100));
            for (size_t k = 0; k < sizeof buf; k++)
                CHECK_EQ(buf[k], 0);
            CHECK_OK(mmf_close(f));
        }
    }
}
