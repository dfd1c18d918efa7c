/* Options, numbers, targets and the two kinds of error message. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

static int find_opt(const struct cli_command *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++)
        if (strlen(cmd->opts[i].name) == len &&
            strncmp(cmd->opts[i].name, name, len) == 0)
            return i;
    return -1;
}

/* "-" (standard input) and negative numbers are operands, so that the
 * latter get the number parser's message. */
static int is_operand(const char *s)
{
    return s[0] != '-' || s[1] == '\0' || (s[1] >= '0' && s[1] <= '9');
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv,
              struct cli_args *a)
{
    int only_operands = 0;

    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];

        if (only_operands || is_operand(s)) {
            if (a->npos == cmd->max_pos)
                return cli_usage(cmd, "unexpected argument '%s'", s);
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            cli_print_help(stdout, cmd);
            return CLI_OK;
        }
        if (s[1] != '-')
            return cli_usage(cmd, "unknown option '%s'", s);
        s += 2;
        const char *eq = strchr(s, '=');
        size_t len = eq != NULL ? (size_t)(eq - s) : strlen(s);
        int k = find_opt(cmd, s, len);
        if (k < 0)
            return cli_usage(cmd, "unknown option '--%.*s'", (int)len, s);
        if (cmd->opts[k].arg == NULL) {
            if (eq != NULL)
                return cli_usage(cmd, "option '--%s' takes no value",
                                 cmd->opts[k].name);
            a->value[k] = "";
        } else if (eq != NULL) {
            a->value[k] = eq + 1;
        } else if (i + 1 < argc) {
            a->value[k] = argv[++i];
        } else {
            return cli_usage(cmd, "option '--%s' needs a value (%s)",
                             cmd->opts[k].name, cmd->opts[k].arg);
        }
    }
    if (a->npos < cmd->min_pos)
        return cli_usage(cmd, "missing argument (usage: mmf %s %s)", cmd->name,
                         cmd->usage);
    return -1;
}

const char *cli_opt(const struct cli_command *cmd, const struct cli_args *a,
                    const char *name)
{
    int k = find_opt(cmd, name, strlen(name));
    return k < 0 ? NULL : a->value[k];
}

/* Prints text from column `indent` on, wrapped before column 80. */
static void print_wrapped(FILE *fp, const char *text, int indent)
{
    int col = indent;

    while (*text != '\0') {
        int word = (int)strcspn(text, " ");
        if (col > indent && col + 1 + word > 79) {
            fprintf(fp, "\n%*s", indent - 1, "");
            col = indent;
        }
        fprintf(fp, " %.*s", word, text);
        col += 1 + word;
        text += word;
        text += strspn(text, " ");
    }
    fputc('\n', fp);
}

void cli_print_help(FILE *fp, const struct cli_command *cmd)
{
    fprintf(fp, "usage: mmf %s %s\n\n%s.\n", cmd->name, cmd->usage,
            cmd->summary);
    if (cmd->details != NULL && cmd->details[0] != '\0')
        fprintf(fp, "\n%s", cmd->details);
    fprintf(fp, "\noptions:\n");
    for (int i = 0; cmd->opts != NULL && cmd->opts[i].name != NULL; i++) {
        const struct cli_optdef *o = &cmd->opts[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(fp, "  %-18s", left);
        print_wrapped(fp, o->help, 21);
    }
    fprintf(fp, "  %-18s", "-h, --help");
    print_wrapped(fp, "show this help", 21);
}

int cli_usage(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "mmf %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'mmf help %s')\n", cmd->name);
    return CLI_USAGE;
}

int cli_fail(const char *object, int err, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "mmf: %s: %s", object, mmf_strerror(err));
    if (fmt != NULL) {
        fputs(": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    return CLI_FAIL;
}

/* ---- numbers ---- */

static int digit_value(int c, int base)
{
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return v < base ? v : -1;
}

int cli_number(const struct cli_command *cmd, const char *what,
               const char *text, uint64_t *out)
{
    const uint64_t max = UINT64_C(0x7fffffffffffffff);
    const char *p = text;
    uint64_t v = 0;
    int base = 10, digits = 0, shift = 0;

    if (p[0] == '-' && digit_value((unsigned char)p[1], 10) >= 0)
        return cli_usage(cmd, "invalid %s '%s': negative", what, text);
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (int d; (d = digit_value((unsigned char)*p, base)) >= 0; p++) {
        if (v > (max - (uint64_t)d) / (uint64_t)base)
            return cli_usage(cmd,
                             "invalid %s '%s': too large (the limit is "
                             "2^63 - 1)",
                             what, text);
        v = v * (uint64_t)base + (uint64_t)d;
        digits++;
    }
    if (digits == 0)
        return cli_usage(cmd, "invalid %s '%s': not a number", what, text);
    switch (*p) {
    case 'k':
    case 'K':
        shift = 10;
        break;
    case 'm':
    case 'M':
        shift = 20;
        break;
    case 'g':
    case 'G':
        shift = 30;
        break;
    default:
        break;
    }
    if (shift != 0)
        p++;
    if (*p != '\0')
        return cli_usage(cmd, "invalid %s '%s': unexpected '%s'", what, text,
                         p);
    if (v > max >> shift)
        return cli_usage(cmd,
                         "invalid %s '%s': too large (the limit is "
                         "2^63 - 1)",
                         what, text);
    *out = v << shift;
    return CLI_OK;
}

int cli_number_opt(const struct cli_command *cmd, const struct cli_args *a,
                   const char *name, uint64_t *out)
{
    const char *s = cli_opt(cmd, a, name);
    return s == NULL ? CLI_OK : cli_number(cmd, name, s, out);
}

/* ---- NAME or PATH ---- */

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Looks like a path whatever exists: it has a character no name may
 * contain. */
static int path_syntax(const char *s)
{
    if (has_prefix(s, "Local\\") || has_prefix(s, "Global\\"))
        return 0;
    return strpbrk(s, cli_path_chars) != NULL;
}

int cli_target(const struct cli_command *cmd, const struct cli_args *a,
               const char *arg, struct cli_target *t)
{
    int force_name = cli_opt(cmd, a, "name") != NULL;
    int force_path = cli_opt(cmd, a, "path") != NULL;
    struct cli_file_stat st;
    mmf_info info;

    if (force_name && force_path)
        return cli_usage(cmd, "--name and --path exclude each other");
    t->arg = arg;
    if (force_name || force_path) {
        t->is_path = force_path;
    } else if (path_syntax(arg)) {
        t->is_path = 1;
    } else if (mmf_stat(arg, MMF_KIND_MAP, &info) == MMF_OK ||
               mmf_stat(arg, MMF_KIND_MUTEX, &info) == MMF_OK) {
        t->is_path = 0;
    } else {
        t->is_path = cli_stat(arg, &st) == MMF_OK;
    }
    return CLI_OK;
}

int cli_open(const struct cli_target *t, int writable, mmf_file **f,
             uint64_t *size)
{
    int access = writable ? MMF_ACCESS_READ_WRITE : MMF_ACCESS_READ;
    struct cli_file_stat st;
    int rc;

    *f = NULL;
    *size = 0;
    if (!t->is_path)
        rc = mmf_open_existing(t->arg, access, 0, f);
    else if ((rc = cli_stat(t->arg, &st)) != MMF_OK)
        return rc;
    else if (st.regular && st.size == 0)
        return MMF_OK; /* nothing to map */
    else
        rc = mmf_create_from_file(t->arg, MMF_MODE_OPEN, NULL, 0, access, 0, f);
    if (rc == MMF_OK)
        *size = mmf_capacity(*f);
    return rc;
}
