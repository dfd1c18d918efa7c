/*
 * The `mmf` command: what its source files share.
 *
 * mmf.c       main, the command table, help and version
 * cli_args.c  options, numbers, NAME-or-PATH targets, error messages
 * cli_out.c   JSON strings, sizes, the hex dump, describing objects
 * cli_named.c ls, info, create, rm
 * cli_bytes.c read, write, touch, evict; residency shown
 * cli_sys.c   what the public API has no call for (page cache, signals,
 *             terminals, holder processes); one #ifdef per platform
 */
#ifndef MMF_CLI_H
#define MMF_CLI_H

#include <mmf.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses. */
#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* ---- commands and their options (mmf.c, cli_args.c) ---- */

#define CLI_MAX_OPTS 10
#define CLI_MAX_POS 3

struct cli_optdef {
    const char *name; /* long name, without the leading -- */
    const char *arg;  /* placeholder of its value, NULL for a flag */
    const char *help;
};

struct cli_args {
    /* Per option of the command, in table order: its value, "" for a flag
     * that was given, NULL when absent. */
    const char *value[CLI_MAX_OPTS];
    const char *pos[CLI_MAX_POS];
    int npos;
};

struct cli_command {
    const char *name;
    const char *usage;   /* what follows "mmf NAME " */
    const char *summary; /* one line for `mmf help` */
    const char *details; /* the rest of `mmf help NAME` */
    const struct cli_optdef *opts;
    int min_pos, max_pos;
    int (*run)(const struct cli_command *cmd, const struct cli_args *a);
};

/* The commands (cli_named.c, cli_bytes.c). */
int cli_cmd_ls(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_info(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_create(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_rm(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_read(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_write(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_touch(const struct cli_command *cmd, const struct cli_args *a);
int cli_cmd_evict(const struct cli_command *cmd, const struct cli_args *a);

/* Parses argv[1..] of a command (argv[0] is its name). Returns -1 to run
 * it, CLI_OK after printing its help (--help), CLI_USAGE after printing a
 * usage error. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
              struct cli_args *a);
/* The value of option `name` (NULL when absent; "" for a given flag). */
const char *cli_opt(const struct cli_command *cmd, const struct cli_args *a,
                    const char *name);
void cli_print_help(FILE *fp, const struct cli_command *cmd);

/* Prints "mmf CMD: message (see 'mmf help CMD')" and returns CLI_USAGE. */
int cli_usage(const struct cli_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "mmf: OBJECT: <mmf_strerror(err)>[: detail]" and returns
 * CLI_FAIL. fmt may be NULL. */
int cli_fail(const char *object, int err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Parses a size or offset: decimal or 0x hex, then an optional K, M or G
 * (powers of 1024); at most 2^63 - 1. Prints a usage error and returns
 * CLI_USAGE for anything else, CLI_OK otherwise. */
int cli_number(const struct cli_command *cmd, const char *what,
               const char *text, uint64_t *out);
/* An optional number option: leaves *out alone when the option is absent. */
int cli_number_opt(const struct cli_command *cmd, const struct cli_args *a,
                   const char *name, uint64_t *out);

/* What an argument names: a named object or a file. */
struct cli_target {
    const char *arg;
    int is_path;
};
/* Applies the NAME-or-PATH rule (see `mmf help`) to arg, honouring the
 * --name and --path options of the command. */
int cli_target(const struct cli_command *cmd, const struct cli_args *a,
               const char *arg, struct cli_target *t);
/* Opens the target's map (a live named map, or the file) for reading, or for
 * reading and writing. An empty file gives *f NULL and *size 0. Returns an
 * MMF_* code. */
int cli_open(const struct cli_target *t, int writable, mmf_file **f,
             uint64_t *size);

/* ---- output (cli_out.c) ---- */

/* Writes s as a JSON string: quoted and escaped, invalid UTF-8 replaced. */
void cli_json_str(FILE *fp, const char *s);
/* The name without a leading Local\ or Global\ (as POSIX stores it). */
const char *cli_base_name(const char *name);
/* "512 B", "1.5 KiB", "2.0 MiB"... */
const char *cli_human(uint64_t n, char buf[32]);
/* "map", "file map", "mutex", "foreign" (json: "map", "file_map", ...). */
const char *cli_kind(int kind, int json);
/* "live", "kept" (no holder, kept by name) or "stale" (every holder died). */
const char *cli_state(const mmf_info *info);
/* Writes the owner as "name (uid N)", "uid N" or "unknown". */
void cli_print_owner(FILE *fp, int64_t owner);
/* Writes the JSON members "owner" (uid or null) and "owner_name". */
void cli_json_owner(FILE *fp, int64_t owner);

/* The classic hex + ASCII dump, fed in pieces. */
struct cli_hexdump {
    uint64_t at; /* offset of the next byte */
    int width;   /* digits of the offset column */
    unsigned char line[16], prev[16];
    int fill;      /* bytes in line */
    int have_prev; /* prev holds the last full line printed or skipped */
    int starred;   /* a "*" stands for the lines equal to prev */
};
void cli_hex_begin(struct cli_hexdump *h, uint64_t start, uint64_t end);
void cli_hex_feed(struct cli_hexdump *h, FILE *fp, const unsigned char *p,
                  size_t n);
void cli_hex_end(struct cli_hexdump *h, FILE *fp);

/* ---- page-cache residency (cli_sys.c, cli_bytes.c) ---- */

#define CLI_BAR_CELLS 64
struct cli_resident {
    size_t page;
    uint64_t pages, resident;
    int cells; /* cells of the bar used: min(pages, CLI_BAR_CELLS) */
    uint64_t cell_pages[CLI_BAR_CELLS], cell_resident[CLI_BAR_CELLS];
};
/* Counts the pages of f's first `size` bytes in the page cache.
 * MMF_ENOTSUP where the OS cannot tell. */
int cli_residency(mmf_file *f, uint64_t size, struct cli_resident *r);
/* "[OOoo    ]": per cell, O all resident, o some, space none. */
void cli_print_bar(FILE *fp, const struct cli_resident *r);
/* Prints "resident: ..." (text) or the "residency" member (JSON) of a file
 * at path, in the cache or not; errors are shown, not returned. */
void cli_print_residency(FILE *fp, const char *path, int json,
                         const char *indent);

/* Calls fn for each window of at most `step` bytes of the map's first
 * `size` bytes, through a read view; stops at the first error. */
int cli_each_window(mmf_file *f, uint64_t size, uint64_t step,
                    int (*fn)(mmf_view *v, void *ctx), void *ctx);

/* Writes back the file's dirty pages, then drops its pages from the page
 * cache. MMF_ENOTSUP where the OS cannot. */
int cli_evict(mmf_file *f);

/* ---- the operating system (cli_sys.c) ---- */

struct cli_file_stat {
    uint64_t size;
    unsigned mode; /* permission bits */
    int64_t owner; /* uid, -1 where unknown */
    int regular;
};
/* stat(2) of a path; an MMF_* code. */
int cli_stat(const char *path, struct cli_file_stat *st);
/* Characters that make an argument a PATH: "/", on Windows also "\\:". */
extern const char cli_path_chars[];
/* 1 where a map's name is a POSIX shared-memory object that can be kept
 * and removed (shm_open, --keep, rm); 0 on Windows, where a name lives
 * exactly as long as its handles. */
extern const int cli_posix_names;
/* The MMF_* code for an errno value. */
int cli_error_from_errno(int e);
int cli_isatty(FILE *fp);
/* No newline translation (Windows). */
void cli_binary(FILE *fp);
long cli_pid(void);
/* The user's name for a uid, or NULL. */
const char *cli_user_name(int64_t uid, char *buf, size_t n);
/* The absolute, resolved form of path, or NULL. */
const char *cli_realpath(const char *path, char *buf, size_t n);
/* Up to max ids of the processes holding the named map (mutex 0) or
 * mutex (1), in *pids; the number found, or -1 where they cannot be told. */
int cli_holder_pids(const char *name, int mutex, long *pids, int max);
/* The command name of a process, or NULL. */
const char *cli_process_name(long pid, char *buf, size_t n);
/* Catches SIGINT, SIGTERM and SIGHUP (Ctrl-C and Ctrl-Break on Windows) from
 * now on, so that they are waited for by cli_wait_signal. */
void cli_catch_signals(void);
/* Waits for one of them; returns its number. */
int cli_wait_signal(void);

#endif /* MMF_CLI_H */
