/* The commands on bytes: read, write, touch, evict; page-cache residency. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (64 * 1024)
#define MAX_OFFSET UINT64_C(0x7fffffffffffffff)

int cli_each_window(mmf_file *f, uint64_t size, uint64_t step,
                    int (*fn)(mmf_view *v, void *ctx), void *ctx)
{
    for (uint64_t at = 0; at < size; at += step) {
        uint64_t n = size - at < step ? size - at : step;
        mmf_view *v;
        int rc = mmf_view_open(f, at, n, MMF_ACCESS_READ, &v);

        if (rc != MMF_OK)
            return rc;
        rc = fn(v, ctx);
        mmf_view_close(v);
        if (rc != MMF_OK)
            return rc;
    }
    return MMF_OK;
}

void cli_print_bar(FILE *fp, const struct cli_resident *r)
{
    fputc('[', fp);
    for (int i = 0; i < r->cells; i++) {
        uint64_t in = r->cell_resident[i], all = r->cell_pages[i];
        fputc(in == 0 ? ' ' : in == all ? 'O' : 'o', fp);
    }
    fputc(']', fp);
}

/* The residency of the file at path; an MMF_* code. */
static int measure(const char *path, struct cli_resident *r)
{
    struct cli_file_stat st;
    mmf_file *f;
    int rc = cli_stat(path, &st);

    if (rc != MMF_OK)
        return rc;
    if (st.regular && st.size == 0)
        return cli_residency(NULL, 0, r);
    rc = mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ, 0,
                              &f);
    if (rc != MMF_OK)
        return rc;
    rc = cli_residency(f, mmf_capacity(f), r);
    mmf_close(f);
    return rc;
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole == 0 ? 0.0 : 100.0 * (double)part / (double)whole;
}

void cli_print_residency(FILE *fp, const char *path, int json,
                         const char *indent)
{
    struct cli_resident r;
    char a[32], b[32];
    int rc = measure(path, &r);
    uint64_t bytes = 0, size = 0;

    if (rc == MMF_OK) {
        struct cli_file_stat st;
        size = cli_stat(path, &st) == MMF_OK ? st.size : 0;
        bytes = r.resident * r.page;
        if (bytes > size)
            bytes = size; /* the last page is partly the file's */
    }
    if (json) {
        fputs("\"residency\": ", fp);
        if (rc != MMF_OK) {
            fputs("null, \"residency_error\": ", fp);
            cli_json_str(fp, mmf_strerror(rc));
            return;
        }
        fprintf(fp,
                "{\"page_size\": %u, \"pages\": %llu, \"resident_pages\": "
                "%llu, \"resident_bytes\": %llu, \"percent\": %.1f}",
                (unsigned)r.page, (unsigned long long)r.pages,
                (unsigned long long)r.resident, (unsigned long long)bytes,
                percent(r.resident, r.pages));
        return;
    }
    if (rc != MMF_OK) {
        fprintf(fp, "%sresident: unknown (%s)\n", indent, mmf_strerror(rc));
        return;
    }
    fprintf(fp, "%sresident: %llu of %llu pages (%.1f%%), %s of %s\n", indent,
            (unsigned long long)r.resident, (unsigned long long)r.pages,
            percent(r.resident, r.pages), cli_human(bytes, a),
            cli_human(size, b));
    if (r.pages > 0) {
        fprintf(fp, "%s          ", indent);
        cli_print_bar(fp, &r);
        fputc('\n', fp);
    }
}

/* ---- read ---- */

/* Checks that [off, off + len) lies within a map of `size` bytes. */
static int check_range(const char *object, uint64_t off, uint64_t len,
                       uint64_t size, const char *verb)
{
    if (off > size)
        return cli_fail(object, MMF_ERANGE,
                        "offset %llu is past the end (size %llu)",
                        (unsigned long long)off, (unsigned long long)size);
    if (len > size - off)
        return cli_fail(object, MMF_ERANGE,
                        "%s %llu bytes at offset %llu would pass the end "
                        "(size %llu)%s",
                        verb, (unsigned long long)len, (unsigned long long)off,
                        (unsigned long long)size,
                        verb[0] == 'w' ? "; nothing written" : "");
    return CLI_OK;
}

static int finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail("standard output", cli_error_from_errno(errno), NULL);
    return CLI_OK;
}

int cli_cmd_read(const struct cli_command *cmd, const struct cli_args *a)
{
    const char *len_opt = cli_opt(cmd, a, "length");
    int hex = cli_opt(cmd, a, "hex") != NULL;
    int raw = cli_opt(cmd, a, "raw") != NULL;
    uint64_t off = 0, len = 0, size;
    struct cli_target t;
    struct cli_hexdump h;
    unsigned char *buf;
    mmf_file *f;
    int rc;

    if (hex && raw)
        return cli_usage(cmd, "--hex and --raw exclude each other");
    if ((rc = cli_number_opt(cmd, a, "offset", &off)) != CLI_OK ||
        (rc = cli_number_opt(cmd, a, "length", &len)) != CLI_OK)
        return rc;
    if (len > MAX_OFFSET - off)
        return cli_usage(cmd, "offset + length is too large (the limit is "
                              "2^63 - 1)");
    if ((rc = cli_target(cmd, a, a->pos[0], &t)) != CLI_OK)
        return rc;
    if ((rc = cli_open(&t, 0, &f, &size)) != MMF_OK)
        return cli_fail(t.arg, rc, NULL);
    if (len_opt == NULL)
        len = off <= size ? size - off : 0;
    if ((rc = check_range(t.arg, off, len, size, "reading")) != CLI_OK) {
        mmf_close(f);
        return rc;
    }
    if ((buf = malloc(CHUNK)) == NULL) {
        mmf_close(f);
        return cli_fail(t.arg, MMF_ENOMEM, NULL);
    }
    hex = hex || (!raw && cli_isatty(stdout));
    if (hex)
        cli_hex_begin(&h, off, off + len);
    else
        cli_binary(stdout);
    for (uint64_t done = 0; done < len && rc == MMF_OK;) {
        size_t n = len - done < CHUNK ? (size_t)(len - done) : CHUNK;
        rc = mmf_read(f, off + done, buf, n);
        if (rc != MMF_OK)
            break;
        if (hex)
            cli_hex_feed(&h, stdout, buf, n);
        else
            fwrite(buf, 1, n, stdout);
        done += n;
    }
    if (hex)
        cli_hex_end(&h, stdout);
    free(buf);
    mmf_close(f);
    if (rc != MMF_OK) {
        fflush(stdout);
        return cli_fail(t.arg, rc, NULL);
    }
    return finish_output();
}

/* ---- write ---- */

/* Reads all of fp, but no more than limit + 1 bytes (one more than fits
 * tells that it does not). */
static int slurp(FILE *fp, uint64_t limit, unsigned char **out, size_t *n)
{
    size_t cap = 0, len = 0;
    unsigned char *buf = NULL;
    uint64_t want = limit >= SIZE_MAX - 1 ? SIZE_MAX - 1 : limit + 1;

    for (;;) {
        if (len == cap) {
            size_t grow = cap == 0 ? CHUNK : cap;
            unsigned char *p;
            if (cap >= want)
                break;
            if (grow > want - cap)
                grow = (size_t)(want - cap);
            if ((p = realloc(buf, cap + grow)) == NULL) {
                free(buf);
                return MMF_ENOMEM;
            }
            buf = p;
            cap += grow;
        }
        size_t k = fread(buf + len, 1, cap - len, fp);
        len += k;
        if (k == 0) {
            if (ferror(fp)) {
                int e = errno;
                free(buf);
                return cli_error_from_errno(e != 0 ? e : EIO);
            }
            break;
        }
    }
    *out = buf;
    *n = len;
    return MMF_OK;
}

int cli_cmd_write(const struct cli_command *cmd, const struct cli_args *a)
{
    const char *data = cli_opt(cmd, a, "data");
    const char *file = cli_opt(cmd, a, "file");
    int dash = a->npos > 1, sources = (data != NULL) + (file != NULL) + dash;
    uint64_t off = 0, size, room;
    unsigned char *buf = NULL;
    size_t n = 0;
    struct cli_target t;
    mmf_file *f;
    int rc;

    if (dash && strcmp(a->pos[1], "-") != 0)
        return cli_usage(cmd, "unexpected argument '%s'", a->pos[1]);
    if (sources != 1)
        return cli_usage(cmd, "give exactly one of --data, --file or -");
    if ((rc = cli_number_opt(cmd, a, "offset", &off)) != CLI_OK)
        return rc;
    if ((rc = cli_target(cmd, a, a->pos[0], &t)) != CLI_OK)
        return rc;
    if ((rc = cli_open(&t, 1, &f, &size)) != MMF_OK)
        return cli_fail(t.arg, rc, NULL);
    if (off > size) {
        mmf_close(f);
        return check_range(t.arg, off, 0, size, "writing");
    }
    room = size - off;
    if (data != NULL) {
        n = strlen(data);
    } else {
        FILE *in = stdin;
        if (file != NULL && (in = fopen(file, "rb")) == NULL) {
            rc = cli_error_from_errno(errno);
            mmf_close(f);
            return cli_fail(file, rc, NULL);
        }
        if (file == NULL)
            cli_binary(stdin);
        rc = slurp(in, room, &buf, &n);
        if (file != NULL)
            fclose(in);
        if (rc != MMF_OK) {
            mmf_close(f);
            return cli_fail(file != NULL ? file : "standard input", rc, NULL);
        }
        if (n > room) {
            free(buf);
            mmf_close(f);
            return cli_fail(t.arg, MMF_ERANGE,
                            "more than %llu bytes at offset %llu would pass "
                            "the end (size %llu); nothing written",
                            (unsigned long long)room, (unsigned long long)off,
                            (unsigned long long)size);
        }
    }
    if ((rc = check_range(t.arg, off, n, size, "writing")) == CLI_OK && n > 0) {
        const void *src = data != NULL ? (const void *)data : buf;
        rc = mmf_write(f, off, src, n);
        if (rc == MMF_OK && cli_opt(cmd, a, "sync") != NULL)
            rc = mmf_flush(f, off, n, MMF_FLUSH_DURABLE);
        rc = rc == MMF_OK ? CLI_OK : cli_fail(t.arg, rc, NULL);
    }
    free(buf);
    mmf_close(f);
    return rc;
}

/* ---- touch and evict ---- */

struct progress {
    const char *path;
    uint64_t size, done;
    int show;
};

static void show_progress(const struct progress *p)
{
    const int width = 30;
    int full = p->size == 0 ? width : (int)(p->done * width / p->size);
    char a[32], b[32];

    fprintf(stderr, "\rloading %s [", p->path);
    for (int i = 0; i < width; i++)
        fputc(i < full ? '#' : '.', stderr);
    fprintf(stderr, "] %3d%% %s of %s ", (int)percent(p->done, p->size),
            cli_human(p->done, a), cli_human(p->size, b));
    fflush(stderr);
}

static int touch_window(mmf_view *v, void *ctx)
{
    struct progress *p = ctx;
    int rc;

    (void)mmf_view_advise(v, 0, 0, MMF_ADVICE_WILLNEED);
    rc = mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE);
    p->done += mmf_view_size(v);
    if (p->show)
        show_progress(p);
    return rc;
}

/* Opens the file at path for touch and evict; *f NULL for an empty file. */
static int open_file(const char *path, mmf_file **f, uint64_t *size)
{
    struct cli_target t = {path, 1};
    return cli_open(&t, 0, f, size);
}

static void summary(const char *path, const char *what)
{
    struct cli_resident r;

    if (measure(path, &r) != MMF_OK) {
        printf("%s: %s\n", path, what);
        return;
    }
    printf("%s: %s; %llu of %llu pages in the page cache (%.1f%%)\n", path,
           what, (unsigned long long)r.resident, (unsigned long long)r.pages,
           percent(r.resident, r.pages));
}

int cli_cmd_touch(const struct cli_command *cmd, const struct cli_args *a)
{
    const char *path = a->pos[0];
    struct progress p = {path, 0, 0, 0};
    mmf_file *f;
    int rc;

    (void)cmd;
    if ((rc = open_file(path, &f, &p.size)) != MMF_OK)
        return cli_fail(path, rc, NULL);
    p.show = cli_isatty(stderr) && p.size >= (UINT64_C(64) << 20);
    rc = f == NULL
             ? MMF_OK
             : cli_each_window(f, p.size, UINT64_C(16) << 20, touch_window, &p);
    if (p.show)
        fputc('\n', stderr);
    mmf_close(f);
    if (rc != MMF_OK)
        return cli_fail(path, rc, NULL);
    summary(path, "loaded");
    return finish_output();
}

int cli_cmd_evict(const struct cli_command *cmd, const struct cli_args *a)
{
    const char *path = a->pos[0];
    uint64_t size;
    mmf_file *f;
    int rc;

    (void)cmd;
    if ((rc = open_file(path, &f, &size)) != MMF_OK)
        return cli_fail(path, rc, NULL);
    rc = f == NULL ? MMF_OK : cli_evict(f);
    mmf_close(f);
    if (rc == MMF_ENOTSUP)
        return cli_fail(path, rc,
                        "this platform cannot drop a file from the page "
                        "cache");
    if (rc != MMF_OK)
        return cli_fail(path, rc, NULL);
    summary(path, "evicted");
    return finish_output();
}
