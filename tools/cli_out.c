/* Output helpers: JSON strings, sizes, names of kinds and states, the hex
 * dump. */
#include "cli.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
static int utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    int n;
    unsigned min;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x7fu >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void cli_json_str(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', fp);
    while (*p != '\0') {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", fp); /* not UTF-8: JSON cannot carry it */
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(fp, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(fp, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, (size_t)n, fp);
            p += n;
        }
    }
    fputc('"', fp);
}

const char *cli_base_name(const char *name)
{
    if (strncmp(name, "Local\\", 6) == 0)
        return name + 6;
    if (strncmp(name, "Global\\", 7) == 0)
        return name + 7;
    return name;
}

const char *cli_human(uint64_t n, char buf[32])
{
    static const char *const units[] = {"KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    double v = (double)n;
    int u = -1;

    if (n < 1024) {
        snprintf(buf, 32, "%u B", (unsigned)n);
        return buf;
    }
    while (v >= 1024 && u < 5) {
        v /= 1024;
        u++;
    }
    snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

const char *cli_kind(int kind, int json)
{
    switch (kind) {
    case MMF_KIND_MAP:
        return "map";
    case MMF_KIND_FILE_MAP:
        return json ? "file_map" : "file map";
    case MMF_KIND_MUTEX:
        return "mutex";
    case MMF_KIND_FOREIGN:
        return "foreign";
    default:
        return "unknown";
    }
}

const char *cli_state(const mmf_info *info)
{
    if (info->stale)
        return "stale";
    return info->holders == 0 ? "kept" : "live";
}

void cli_print_owner(FILE *fp, int64_t owner)
{
    char name[256];

    if (owner < 0)
        fputs("unknown", fp);
    else if (cli_user_name(owner, name, sizeof name) != NULL)
        fprintf(fp, "%s (uid %lld)", name, (long long)owner);
    else
        fprintf(fp, "uid %lld", (long long)owner);
}

void cli_json_owner(FILE *fp, int64_t owner)
{
    char name[256];

    if (owner < 0) {
        fputs("\"owner\": null, \"owner_name\": null", fp);
        return;
    }
    fprintf(fp, "\"owner\": %lld, \"owner_name\": ", (long long)owner);
    if (cli_user_name(owner, name, sizeof name) != NULL)
        cli_json_str(fp, name);
    else
        fputs("null", fp);
}

/* ---- hex dump ---- */

void cli_hex_begin(struct cli_hexdump *h, uint64_t start, uint64_t end)
{
    memset(h, 0, sizeof *h);
    h->at = start;
    h->width = 8;
    while (h->width < 16 && (end >> (4 * h->width)) != 0)
        h->width++;
}

static void hex_line(struct cli_hexdump *h, FILE *fp)
{
    int full = h->fill == 16;

    if (full && h->have_prev && memcmp(h->line, h->prev, 16) == 0) {
        if (!h->starred)
            fputs("*\n", fp);
        h->starred = 1;
    } else {
        fprintf(fp, "%0*llx ", h->width, (unsigned long long)h->at);
        for (int i = 0; i < 16; i++) {
            if (i == 8)
                fputc(' ', fp);
            if (i < h->fill)
                fprintf(fp, " %02x", h->line[i]);
            else
                fputs("   ", fp);
        }
        fputs("  |", fp);
        for (int i = 0; i < h->fill; i++)
            fputc(h->line[i] >= 0x20 && h->line[i] < 0x7f ? h->line[i] : '.',
                  fp);
        fputs("|\n", fp);
        h->starred = 0;
    }
    if (full) {
        memcpy(h->prev, h->line, 16);
        h->have_prev = 1;
    }
    h->at += (uint64_t)h->fill;
    h->fill = 0;
}

void cli_hex_feed(struct cli_hexdump *h, FILE *fp, const unsigned char *p,
                  size_t n)
{
    while (n > 0) {
        size_t k = 16 - (size_t)h->fill;
        if (k > n)
            k = n;
        memcpy(h->line + h->fill, p, k);
        h->fill += (int)k;
        p += k;
        n -= k;
        if (h->fill == 16)
            hex_line(h, fp);
    }
}

void cli_hex_end(struct cli_hexdump *h, FILE *fp)
{
    int any = h->have_prev || h->fill > 0;

    if (h->fill > 0)
        hex_line(h, fp);
    if (any)
        fprintf(fp, "%0*llx\n", h->width, (unsigned long long)h->at);
}
