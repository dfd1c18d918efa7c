/* The commands on named objects: ls, info, create, rm. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* ---- describing an object ---- */

/* Up to max ids of the processes holding the object: how many were found,
 * or -1 where they cannot be told. */
static int find_pids(const mmf_info *info, long *pids, int max)
{
    if (info->holders == 0)
        return 0;
    if (info->holders < 0 || info->kind == MMF_KIND_FOREIGN)
        return -1;
    return cli_holder_pids(info->name, info->kind == MMF_KIND_MUTEX, pids, max);
}

/* "2 processes: 1234 (mmf), 5678 (python3)" into buf. */
static const char *holders_text(const mmf_info *info, char *buf, size_t n)
{
    long pids[8];
    int k = find_pids(info, pids, 8);
    size_t at;

    if (info->holders < 0) {
        snprintf(buf, n, "unknown");
        return buf;
    }
    at = (size_t)snprintf(buf, n, "%d process%s", info->holders,
                          info->holders == 1 ? "" : "es");
    for (int i = 0; i < k && at < n; i++) {
        char comm[64];
        const char *c = cli_process_name(pids[i], comm, sizeof comm);
        at += (size_t)snprintf(buf + at, n - at, "%s%ld%s%s%s",
                               i == 0 ? ": " : ", ", pids[i], c ? " (" : "",
                               c ? c : "", c ? ")" : "");
    }
    if (k >= 0 && k < info->holders && at < n)
        snprintf(buf + at, n - at, "%s%d not visible to this user",
                 k == 0 ? ": " : ", ", info->holders - k);
    return buf;
}

static void print_json_pids(FILE *fp, const mmf_info *info)
{
    long pids[64];
    int k = find_pids(info, pids, 64);

    fputs("\"pids\": ", fp);
    if (k < 0) {
        fputs("null", fp);
        return;
    }
    fputc('[', fp);
    for (int i = 0; i < k; i++)
        fprintf(fp, "%s%ld", i ? ", " : "", pids[i]);
    fputc(']', fp);
}

/* One object as JSON; detail adds the holders' pids and, for a file map,
 * the file's page-cache residency. */
static void print_json_info(FILE *fp, const mmf_info *info, int detail)
{
    fputs("{\"name\": ", fp);
    cli_json_str(fp, info->name);
    fprintf(fp, ", \"kind\": \"%s\", \"size\": %llu, \"mode\": \"%04o\", ",
            cli_kind(info->kind, 1), (unsigned long long)info->capacity,
            info->mode);
    cli_json_owner(fp, info->owner);
    if (info->holders < 0)
        fputs(", \"holders\": null", fp);
    else
        fprintf(fp, ", \"holders\": %d", info->holders);
    fprintf(fp, ", \"stale\": %s, \"state\": \"%s\", \"path\": ",
            info->stale ? "true" : "false", cli_state(info));
    if (info->kind == MMF_KIND_FILE_MAP)
        cli_json_str(fp, info->path);
    else
        fputs("null", fp);
    if (detail) {
        fputs(", ", fp);
        print_json_pids(fp, info);
        if (info->kind == MMF_KIND_FILE_MAP) {
            fputs(", ", fp);
            cli_print_residency(fp, info->path, 1, "");
        }
    }
    fputc('}', fp);
}

static void print_text_info(FILE *fp, const mmf_info *info)
{
    char buf[1024];

    fputs("name:     ", fp);
    fputs(info->name, fp);
    fprintf(fp, "\nkind:     %s\n", cli_kind(info->kind, 0));
    if (info->kind != MMF_KIND_MUTEX)
        fprintf(fp, "size:     %llu bytes (%s)\n",
                (unsigned long long)info->capacity,
                cli_human(info->capacity, buf));
    fprintf(fp, "mode:     %04o\nowner:    ", info->mode);
    cli_print_owner(fp, info->owner);
    fprintf(fp, "\nholders:  %s\n", holders_text(info, buf, sizeof buf));
    fprintf(fp, "state:    %s%s\n", cli_state(info),
            info->stale          ? " (every holder died; 'mmf rm' removes it)"
            : info->holders == 0 ? " (no holder; kept until 'mmf rm')"
                                 : "");
    if (info->kind == MMF_KIND_FILE_MAP) {
        fprintf(fp, "file:     %s\n", info->path);
        cli_print_residency(fp, info->path, 0, "");
    }
}

/* ---- ls ---- */

struct list {
    mmf_info *v;
    size_t n, cap;
    int err;
};

static int collect(const mmf_info *info, void *ctx)
{
    struct list *l = ctx;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        mmf_info *p = realloc(l->v, cap * sizeof *p);
        if (p == NULL) {
            l->err = MMF_ENOMEM;
            return 1;
        }
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = *info;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    const mmf_info *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : x->kind - y->kind;
}

static void owner_column(const mmf_info *info, char *buf, size_t n)
{
    if (info->owner < 0)
        snprintf(buf, n, "-");
    else if (cli_user_name(info->owner, buf, n) == NULL)
        snprintf(buf, n, "%lld", (long long)info->owner);
}

static void print_table(const struct list *l)
{
    int wn = 4, wo = 5;
    char owner[256], size[32];

    for (size_t i = 0; i < l->n; i++) {
        int k = (int)strlen(l->v[i].name);
        wn = k > wn ? k : wn;
        owner_column(&l->v[i], owner, sizeof owner);
        k = (int)strlen(owner);
        wo = k > wo ? k : wo;
    }
    printf("%-*s  %-8s  %10s  %-4s  %-*s  %7s  %-5s  %s\n", wn, "NAME", "KIND",
           "SIZE", "MODE", wo, "OWNER", "HOLDERS", "STATE", "FILE");
    for (size_t i = 0; i < l->n; i++) {
        const mmf_info *o = &l->v[i];
        char holders[16];
        owner_column(o, owner, sizeof owner);
        if (o->holders < 0)
            snprintf(holders, sizeof holders, "?");
        else
            snprintf(holders, sizeof holders, "%d", o->holders);
        printf("%-*s  %-8s  %10s  %04o  %-*s  %7s  ", wn, o->name,
               cli_kind(o->kind, 0),
               o->kind == MMF_KIND_MUTEX ? "-" : cli_human(o->capacity, size),
               o->mode, wo, owner, holders);
        if (o->path[0] != '\0')
            printf("%-5s  %s\n", cli_state(o), o->path);
        else
            printf("%s\n", cli_state(o));
    }
}

int cli_cmd_ls(const struct cli_command *cmd, const struct cli_args *a)
{
    struct list l = {NULL, 0, 0, MMF_OK};
    int rc = mmf_list(collect, &l);

    if (rc == MMF_OK)
        rc = l.err;
    if (rc == MMF_ENOTSUP) {
        free(l.v);
        return cli_fail("ls", rc,
                        "this platform cannot list named objects (use "
                        "'mmf info NAME' for one)");
    }
    if (rc != MMF_OK) {
        free(l.v);
        return cli_fail("ls", rc, NULL);
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, by_name);
    if (cli_opt(cmd, a, "json") != NULL) {
        fputs("[", stdout);
        for (size_t i = 0; i < l.n; i++) {
            fputs(i ? ",\n " : "\n ", stdout);
            print_json_info(stdout, &l.v[i], 0);
        }
        fputs(l.n ? "\n]\n" : "]\n", stdout);
    } else {
        print_table(&l);
    }
    free(l.v);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

/* ---- info ---- */

struct same_file {
    const char *real;
    FILE *fp;
    int json, n;
};

static int print_if_same(const mmf_info *info, void *ctx)
{
    struct same_file *s = ctx;

    if (info->kind != MMF_KIND_FILE_MAP || strcmp(info->path, s->real) != 0)
        return 0;
    if (s->json) {
        fputs(s->n ? ", " : "", s->fp);
        cli_json_str(s->fp, info->name);
    } else {
        fprintf(s->fp, "%s%s", s->n ? ", " : "", info->name);
    }
    s->n++;
    return 0;
}

/* The names of the persisted maps of the file at path ("maps:"). */
static void print_file_maps(FILE *fp, const char *path, int json)
{
    char real[4096];
    struct same_file s = {real, fp, json, 0};

    /* No realpath where there is no mmf_list either (Windows). */
    if (cli_realpath(path, real, sizeof real) == NULL) {
        if (json)
            fputs(", \"maps\": null", fp);
        return;
    }
    fputs(json ? ", \"maps\": [" : "maps:     ", fp);
    mmf_list(print_if_same, &s);
    if (json)
        fputc(']', fp);
    else
        fputs(s.n ? "\n" : "none\n", fp);
}

static int info_path(const struct cli_target *t, int json)
{
    struct cli_file_stat st;
    char buf[256];
    int rc = cli_stat(t->arg, &st);

    if (rc != MMF_OK)
        return cli_fail(t->arg, rc, NULL);
    if (json) {
        fputs("{\"path\": ", stdout);
        cli_json_str(stdout, t->arg);
        fprintf(stdout, ", \"kind\": \"file\", \"size\": %llu, ",
                (unsigned long long)st.size);
        fprintf(stdout, "\"mode\": \"%04o\", ", st.mode);
        cli_json_owner(stdout, st.owner);
        print_file_maps(stdout, t->arg, 1);
        fputs(", ", stdout);
        cli_print_residency(stdout, t->arg, 1, "");
        fputs("}\n", stdout);
    } else {
        printf("path:     %s\nkind:     file\nsize:     %llu bytes (%s)\n",
               t->arg, (unsigned long long)st.size, cli_human(st.size, buf));
        printf("mode:     %04o\nowner:    ", st.mode);
        cli_print_owner(stdout, st.owner);
        fputc('\n', stdout);
        print_file_maps(stdout, t->arg, 0);
        cli_print_residency(stdout, t->arg, 0, "");
    }
    return CLI_OK;
}

static int info_name(const struct cli_target *t, int json)
{
    static const int kinds[] = {MMF_KIND_MAP, MMF_KIND_MUTEX};
    mmf_info found[2];
    int n = 0, err = MMF_ENOENT;

    for (int i = 0; i < 2; i++) {
        int rc = mmf_stat(t->arg, kinds[i], &found[n]);
        if (rc == MMF_OK)
            n++;
        else if (rc != MMF_ENOENT)
            err = rc;
    }
    if (n == 0)
        return cli_fail(t->arg, err, NULL);
    if (json) {
        fputs("{\"name\": ", stdout);
        cli_json_str(stdout, t->arg);
        fputs(", \"objects\": [", stdout);
    }
    for (int i = 0; i < n; i++) {
        if (json) {
            fputs(i ? ",\n  " : "\n  ", stdout);
            print_json_info(stdout, &found[i], 1);
        } else {
            fputs(i ? "\n" : "", stdout);
            print_text_info(stdout, &found[i]);
        }
    }
    if (json)
        fputs("\n]}\n", stdout);
    return CLI_OK;
}

int cli_cmd_info(const struct cli_command *cmd, const struct cli_args *a)
{
    struct cli_target t;
    int rc = cli_target(cmd, a, a->pos[0], &t);
    int json = cli_opt(cmd, a, "json") != NULL;

    if (rc != CLI_OK)
        return rc;
    rc = t.is_path ? info_path(&t, json) : info_name(&t, json);
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = CLI_FAIL;
    return rc;
}

/* ---- create ---- */

static int parse_mode(const struct cli_command *cmd, const char *s,
                      unsigned *out)
{
    unsigned v = 0;

    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '7' || (v = v * 8 + (unsigned)(*p - '0')) > 0777)
            return cli_usage(cmd,
                             "invalid mode '%s': give octal permission bits "
                             "from 0 to 0777",
                             s);
    }
    if (*s == '\0')
        return cli_usage(cmd, "invalid mode '': give octal permission bits "
                              "from 0 to 0777");
    *out = v;
    return CLI_OK;
}

static void print_c_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

/* s as one shell word: as it is when that is safe, else single-quoted. */
static void print_shell_word(FILE *fp, const char *s)
{
    if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._-+:,@%=")] == '\0' &&
        *s != '\0') {
        fputs(s, fp);
        return;
    }
    fputc('\'', fp);
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            fputs("'\\''", fp);
        else
            fputc(*s, fp);
    }
    fputc('\'', fp);
}

struct made {
    const char *name, *file;
    mmf_file *f;
    mmf_mutex *m;
    int keep, hold;
};

/* What was made, and for a held object how to open it. */
static void describe(const struct made *o)
{
    const char *kind = o->m ? "mutex" : o->file ? "file map" : "map";
    const char *base = cli_base_name(o->name);
    unsigned mode = 0;
    char human[32];

    if (o->m)
        mmf_mutex_get_permissions(o->m, &mode);
    else
        mmf_get_permissions(o->f, &mode);
    printf("%s %s ", o->hold ? "holding" : "created", kind);
    print_c_string(stdout, o->name);
    if (o->file != NULL)
        printf(" of %s", o->file);
    if (o->f != NULL)
        printf(": %llu bytes (%s)", (unsigned long long)mmf_capacity(o->f),
               cli_human(mmf_capacity(o->f), human));
    printf(", mode %04o", mode);
    if (!o->hold) {
        printf(", kept until 'mmf rm ");
        print_shell_word(stdout, o->name);
        printf("'\n");
        return;
    }
    printf(", pid %ld\nopen it with:\n  C:      ", cli_pid());
    if (o->m) {
        printf("mmf_mutex_open_existing(");
        print_c_string(stdout, o->name);
        printf(", &m)\n");
    } else {
        printf("mmf_open_existing(");
        print_c_string(stdout, o->name);
        printf(", MMF_ACCESS_READ_WRITE, 0, &f)\n");
    }
    if (cli_posix_names && o->f != NULL && o->file == NULL &&
        strlen(base) < 255) {
        char shm[260];
        snprintf(shm, sizeof shm, "/%s", base);
        printf("  POSIX:  shm_open(");
        print_c_string(stdout, shm);
        printf(", O_RDWR, 0)\n");
    }
    printf("  shell:  mmf info ");
    print_shell_word(stdout, o->name);
    if (o->f != NULL) {
        printf("; mmf read ");
        print_shell_word(stdout, o->name);
        printf(" --length 64");
    }
    printf("\nCtrl-C or SIGTERM (kill %ld) releases it%s.\n", cli_pid(),
           o->keep ? "; the name stays until 'mmf rm'" : "");
}

static int make_object(const struct cli_command *cmd, const struct cli_args *a,
                       uint64_t size, struct made *o)
{
    const char *mode_text = cli_opt(cmd, a, "mode");
    unsigned mode = 0;
    int rc;

    if (mode_text != NULL && (rc = parse_mode(cmd, mode_text, &mode)) != 0)
        return rc;
    if (o->hold)
        cli_catch_signals();
    if (cli_opt(cmd, a, "mutex") != NULL) {
        rc = mmf_mutex_create(o->name, 0, 0, &o->m);
        if (rc == MMF_OK && !mmf_mutex_created(o->m)) {
            mmf_mutex_close(o->m);
            o->m = NULL;
            rc = MMF_EEXIST;
        }
        if (rc == MMF_OK && mode_text != NULL)
            rc = mmf_mutex_set_permissions(o->m, mode);
    } else {
        rc = o->file != NULL
                 ? mmf_create_from_file(o->file, MMF_MODE_OPEN_OR_CREATE,
                                        o->name, size, MMF_ACCESS_READ_WRITE, 0,
                                        &o->f)
                 : mmf_create_new(o->name, size, MMF_ACCESS_READ_WRITE,
                                  o->keep ? MMF_OPT_KEEP_NAME : 0, &o->f);
        if (rc == MMF_OK && mode_text != NULL)
            rc = mmf_set_permissions(o->f, mode);
    }
    if (rc == MMF_OK)
        return CLI_OK;
    if (o->f != NULL && o->keep)
        mmf_unlink(o->name); /* set_permissions failed: leave no trace */
    mmf_close(o->f);
    mmf_mutex_close(o->m);
    if (o->file != NULL)
        return cli_fail(o->name, rc, "file %s", o->file);
    return cli_fail(o->name, rc, NULL);
}

int cli_cmd_create(const struct cli_command *cmd, const struct cli_args *a)
{
    const char *size_text = a->npos > 1 ? a->pos[1] : NULL;
    struct made o = {a->pos[0],
                     cli_opt(cmd, a, "file"),
                     NULL,
                     NULL,
                     cli_opt(cmd, a, "keep") != NULL,
                     cli_opt(cmd, a, "hold") != NULL};
    uint64_t size = 0;
    int rc;

    if (cli_opt(cmd, a, "mutex") != NULL) {
        if (size_text != NULL)
            return cli_usage(cmd, "a mutex has no size");
        if (o.keep || o.file != NULL)
            return cli_usage(cmd, "--mutex goes with --hold and --mode only");
        if (!o.hold)
            return cli_usage(cmd, "a mutex lives only while held: add --hold");
    } else {
        if (size_text == NULL && o.file == NULL)
            return cli_usage(cmd, "missing SIZE (usage: mmf create %s)",
                             cmd->usage);
        if (size_text != NULL &&
            (rc = cli_number(cmd, "size", size_text, &size)) != CLI_OK)
            return rc;
        if (size == 0 && o.file == NULL)
            return cli_usage(cmd,
                             "invalid size '%s': a map needs at least "
                             "one byte",
                             size_text);
        if (o.keep && o.file != NULL)
            return cli_usage(cmd, "--keep does not apply to --file (the file "
                                  "stays anyway; its name lives while held)");
        if (!o.keep && !o.hold)
            return cli_usage(cmd, "a map without --keep lives only while "
                                  "held: add --keep or --hold");
    }
    if ((rc = make_object(cmd, a, size, &o)) != CLI_OK)
        return rc;
    describe(&o);
    fflush(stdout);
    if (o.hold)
        cli_wait_signal();
    mmf_close(o.f);
    mmf_mutex_close(o.m);
    if (o.hold) {
        printf("released %s ", o.m ? "mutex" : o.file ? "file map" : "map");
        print_c_string(stdout, o.name);
        putchar('\n');
    }
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

/* ---- rm ---- */

/* A stale name is removed by the next libmmf call on it other than
 * mmf_stat / mmf_list (MMF_ENOENT then means it is gone). */
static int remove_stale(const char *name, int mutex)
{
    mmf_mutex *m;
    int rc = mutex ? mmf_mutex_open_existing(name, &m) : mmf_unlink(name);

    if (rc == MMF_OK && mutex) {
        mmf_mutex_close(m);
        return cli_fail(name, MMF_EBUSY, "a process took the mutex again");
    }
    if (rc == MMF_ENOENT || rc == MMF_OK)
        return CLI_OK;
    return cli_fail(name, rc, NULL);
}

int cli_cmd_rm(const struct cli_command *cmd, const struct cli_args *a)
{
    const char *name = a->pos[0];
    int mutex = cli_opt(cmd, a, "mutex") != NULL;
    int force = cli_opt(cmd, a, "force") != NULL;
    char holders[1024];
    mmf_info info;
    int rc;

    if (strchr(name, '/') != NULL)
        return cli_usage(cmd, "'%s' is a path; rm removes named objects", name);
    rc = mmf_stat(name, mutex ? MMF_KIND_MUTEX : MMF_KIND_MAP, &info);
    if (rc != MMF_OK)
        return cli_fail(name, rc, NULL);
    if (!cli_posix_names)
        return cli_fail(name, MMF_ENOTSUP,
                        "this platform removes a name with its last handle "
                        "only");
    if (info.stale)
        return remove_stale(name, mutex);
    if (info.kind == MMF_KIND_FOREIGN) {
        rc = mmf_unlink(name);
        return rc == MMF_OK
                   ? CLI_OK
                   : cli_fail(name, rc, "not made by libmmf; left alone");
    }
    holders_text(&info, holders, sizeof holders);
    if (mutex)
        return cli_fail(name, force ? MMF_ENOTSUP : MMF_EBUSY,
                        "held by %s; a mutex's name lives exactly as long as "
                        "its holders",
                        holders);
    if (info.holders != 0 && !force)
        return cli_fail(name, MMF_EBUSY,
                        "held by %s; --force removes the name anyway "
                        "(holders keep their memory)",
                        holders);
    rc = mmf_unlink(name);
    return rc == MMF_OK ? CLI_OK : cli_fail(name, rc, NULL);
}
