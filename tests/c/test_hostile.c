/* The hostile input catalogue (tests/hostile/cases.txt) through the C API.
 *
 * tests/hostile.rs runs the same file through the Rust API; the format is
 * documented at the top of cases.txt. Each case runs fed whole and fed one
 * byte per ws_conn_receive() call; both outcomes must equal the expectation.
 * Every failing case is printed by name; the exit status is 1 if any failed.
 *
 * Usage: test_hostile [cases.txt]   (default: $WSPROTO_HOSTILE_CASES, else
 * "tests/hostile/cases.txt" relative to the working directory, the repo root
 * under CTest).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wsproto.h"

#define MIN_CASES 80
#define MAX_INPUTS 16
#define MAX_PROTOCOLS 8

/* ---- growable string ---------------------------------------------------- */

typedef struct {
    char *p;
    size_t len, cap;
} sb_t;

static void sb_grow(sb_t *s, size_t extra) {
    if (s->len + extra + 1 <= s->cap) return;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < s->len + extra + 1) cap *= 2;
    char *p = realloc(s->p, cap);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    s->p = p;
    s->cap = cap;
}

static void sb_put(sb_t *s, const char *str, size_t n) {
    sb_grow(s, n);
    memcpy(s->p + s->len, str, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_puts(sb_t *s, const char *str) { sb_put(s, str, strlen(str)); }

/* Appends a word, separated from the previous one by a space. */
static void sb_word(sb_t *s, const char *w) {
    if (s->len) sb_put(s, " ", 1);
    sb_puts(s, w);
}

static void sb_hex(sb_t *s, const uint8_t *b, size_t n) {
    static const char digits[] = "0123456789abcdef";
    sb_grow(s, 2 * n);
    for (size_t i = 0; i < n; i++) {
        s->p[s->len++] = digits[b[i] >> 4];
        s->p[s->len++] = digits[b[i] & 15];
    }
    s->p[s->len] = '\0';
}

static const char *sb_str(const sb_t *s) { return s->p ? s->p : ""; }

static void sb_clear(sb_t *s) {
    s->len = 0;
    if (s->p) s->p[0] = '\0';
}

static void sb_free(sb_t *s) {
    free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
}

/* ---- the catalogue -------------------------------------------------------- */

typedef struct {
    uint8_t *bytes; /* NULL with eof set: receive_eof */
    size_t len;
    bool eof;
} input_t;

typedef struct {
    sb_t result, events, state, output, hint;
} outcome_t;

typedef struct {
    char name[128];
    int line;
    char role[16], mode[16];
    sb_t config;
    input_t inputs[MAX_INPUTS];
    size_t n_inputs;
    outcome_t expected;
} case_t;

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool unhex(const char *s, input_t *in) {
    size_t n = 0;
    for (const char *q = s; *q; q++)
        if (*q != ' ') n++;
    if (n % 2) return false;
    in->bytes = malloc(n / 2 + 1);
    in->len = 0;
    in->eof = false;
    int hi = -1;
    for (const char *q = s; *q; q++) {
        if (*q == ' ') continue;
        int v = hexval(*q);
        if (v < 0) return false;
        if (hi < 0) {
            hi = v;
        } else {
            in->bytes[in->len++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return true;
}

/* Collapses runs of spaces so expectations compare word by word. */
static void set_words(sb_t *dst, const char *v) {
    sb_clear(dst);
    const char *q = v;
    while (*q) {
        while (*q == ' ') q++;
        const char *start = q;
        while (*q && *q != ' ') q++;
        if (q > start) {
            if (dst->len) sb_put(dst, " ", 1);
            sb_put(dst, start, (size_t)(q - start));
        }
    }
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sb_t s = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_put(&s, buf, n);
    fclose(f);
    if (!s.p) sb_puts(&s, "");
    return s.p;
}

static bool apply_field(case_t *c, const char *key, const char *value, int line) {
    if (!strcmp(key, "case")) {
        snprintf(c->name, sizeof c->name, "%s", value);
    } else if (!strcmp(key, "role")) {
        snprintf(c->role, sizeof c->role, "%s", value);
    } else if (!strcmp(key, "mode")) {
        snprintf(c->mode, sizeof c->mode, "%s", value);
    } else if (!strcmp(key, "config")) {
        set_words(&c->config, value);
    } else if (!strcmp(key, "src")) {
        /* informational */
    } else if (!strcmp(key, "input")) {
        if (c->n_inputs == MAX_INPUTS) {
            fprintf(stderr, "line %d: more than %d inputs\n", line, MAX_INPUTS);
            return false;
        }
        input_t *in = &c->inputs[c->n_inputs++];
        if (!strcmp(value, "eof")) {
            in->bytes = NULL;
            in->len = 0;
            in->eof = true;
        } else if (!unhex(value, in)) {
            fprintf(stderr, "line %d: bad hex\n", line);
            return false;
        }
    } else if (!strcmp(key, "result")) {
        set_words(&c->expected.result, value);
    } else if (!strcmp(key, "events")) {
        set_words(&c->expected.events, value);
    } else if (!strcmp(key, "state")) {
        set_words(&c->expected.state, value);
    } else if (!strcmp(key, "output")) {
        set_words(&c->expected.output, value);
    } else if (!strcmp(key, "hint")) {
        set_words(&c->expected.hint, value);
    } else {
        fprintf(stderr, "line %d: unknown field %s\n", line, key);
        return false;
    }
    return true;
}

/* Parses the whole file; returns the number of cases or -1. */
static long parse_cases(char *text, case_t **out) {
    size_t cap = 64, n = 0;
    case_t *cases = calloc(cap, sizeof *cases);
    case_t *cur = NULL;
    /* The field being read, kept until a line that does not continue it. */
    sb_t key = {0}, value = {0};
    int key_line = 0, line_no = 0;
    char *line = text;
    bool ok = true;
    while (ok && line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        line_no++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = '\0';
        bool cont = line[0] == ' ' && key.len;
        if (!cont && key.len) { /* flush the pending field */
            if (!cur) {
                if (n == cap) {
                    cap *= 2;
                    cases = realloc(cases, cap * sizeof *cases);
                    memset(cases + n, 0, (cap - n) * sizeof *cases);
                }
                cur = &cases[n++];
                cur->line = key_line;
            }
            ok = apply_field(cur, key.p, sb_str(&value), key_line);
            sb_clear(&key);
            sb_clear(&value);
        }
        if (!ok) break;
        if (line[0] == '#') {
            /* comment */
        } else if (cont) {
            sb_put(&value, " ", 1);
            sb_puts(&value, line + 1);
        } else if (len == 0) {
            cur = NULL;
        } else {
            char *colon = strchr(line, ':');
            if (!colon) {
                fprintf(stderr, "line %d: expected 'field: value'\n", line_no);
                ok = false;
                break;
            }
            *colon = '\0';
            sb_puts(&key, line);
            const char *v = colon + 1;
            while (*v == ' ') v++;
            sb_puts(&value, v);
            key_line = line_no;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (ok && key.len) {
        if (!cur) {
            if (n == cap) {
                cases = realloc(cases, ++cap * sizeof *cases);
                memset(cases + n, 0, sizeof *cases);
            }
            cur = &cases[n++];
            cur->line = key_line;
        }
        ok = apply_field(cur, key.p, sb_str(&value), key_line);
    }
    sb_free(&key);
    sb_free(&value);
    for (size_t i = 0; ok && i < n; i++) {
        if (!cases[i].name[0] || !cases[i].n_inputs || !cases[i].expected.state.len) {
            fprintf(stderr, "case at line %d lacks a name, input or state\n", cases[i].line);
            ok = false;
        }
    }
    *out = cases;
    return ok ? (long)n : -1;
}

/* ---- running a case ------------------------------------------------------------ */

/* The RNG the catalogue assumes: 0, 1, 2, ... in every refill. */
static int counter_rng(void *userdata, uint8_t *buf, size_t len) {
    (void)userdata;
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)i;
    return 0;
}

/* A recorded event; data events of one frame are merged as they arrive. */
typedef struct {
    sb_t token; /* non-data events */
    bool is_data, text, frame_finished, message_finished;
    sb_t data;
} rec_t;

typedef struct {
    ws_conn_t *conn;
    bool client;
    rec_t *recs;
    size_t n_recs, cap_recs;
    outcome_t got;
    sb_t problems;
} driver_t;

static rec_t *new_rec(driver_t *d) {
    if (d->n_recs == d->cap_recs) {
        d->cap_recs = d->cap_recs ? 2 * d->cap_recs : 16;
        d->recs = realloc(d->recs, d->cap_recs * sizeof *d->recs);
    }
    rec_t *r = &d->recs[d->n_recs++];
    memset(r, 0, sizeof *r);
    return r;
}

static void problem(driver_t *d, const char *what, ws_result_t r) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s: %s (%d): %s; ", what, ws_result_str(r), (int)r, ws_conn_last_error(d->conn));
    sb_puts(&d->problems, buf);
}

/* Takes every event; answers a request with ws_conn_accept(). */
static void pump(driver_t *d) {
    for (;;) {
        bool request = false;
        for (;;) {
            ws_event_t e;
            ws_result_t r = ws_conn_poll_event(d->conn, &e);
            if (r != WS_OK) {
                problem(d, "poll_event", r);
                return;
            }
            if (e.type == WS_EVENT_NONE) break;
            char buf[64];
            if (e.type == WS_EVENT_TEXT || e.type == WS_EVENT_BINARY) {
                bool text = e.type == WS_EVENT_TEXT;
                rec_t *last = d->n_recs ? &d->recs[d->n_recs - 1] : NULL;
                rec_t *r2 = (last && last->is_data && !last->frame_finished && last->text == text) ? last : new_rec(d);
                r2->is_data = true;
                r2->text = text;
                r2->frame_finished = (e.flags & WS_EVENT_FLAG_FRAME_FINISHED) != 0;
                r2->message_finished = (e.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) != 0;
                sb_put(&r2->data, (const char *)e.data, e.len);
                continue;
            }
            rec_t *rec = new_rec(d);
            switch (e.type) {
            case WS_EVENT_REQUEST:
                request = true;
                sb_puts(&rec->token, "request");
                break;
            case WS_EVENT_ACCEPT:
                sb_puts(&rec->token, "accept");
                break;
            case WS_EVENT_REJECT:
                snprintf(buf, sizeof buf, "reject:%u", (unsigned)e.code);
                sb_puts(&rec->token, buf);
                break;
            case WS_EVENT_REJECT_DATA:
                snprintf(buf, sizeof buf, "reject_data:%d:", (e.flags & WS_EVENT_FLAG_MESSAGE_FINISHED) ? 1 : 0);
                sb_puts(&rec->token, buf);
                sb_hex(&rec->token, e.data, e.len);
                break;
            case WS_EVENT_PING:
            case WS_EVENT_PONG:
                sb_puts(&rec->token, e.type == WS_EVENT_PING ? "ping:" : "pong:");
                sb_hex(&rec->token, e.data, e.len);
                break;
            case WS_EVENT_CLOSE:
                if (e.flags & WS_EVENT_FLAG_PROTOCOL_ERROR) {
                    snprintf(buf, sizeof buf, "close:%u:8", (unsigned)e.code);
                    sb_puts(&rec->token, buf);
                } else {
                    snprintf(buf, sizeof buf, "close:%u:%u:", (unsigned)e.code, (unsigned)e.flags);
                    sb_puts(&rec->token, buf);
                    sb_hex(&rec->token, e.data, e.len);
                }
                break;
            default:
                snprintf(buf, sizeof buf, "event%d", (int)e.type);
                sb_puts(&rec->token, buf);
                break;
            }
        }
        if (!request) return;
        ws_result_t r = ws_conn_accept(d->conn, NULL, 0, NULL, 0);
        if (r != WS_OK) problem(d, "accept", r);
    }
}

static const char *result_word(ws_result_t r) {
    switch (r) {
    case WS_OK: return "ok";
    case WS_ERR_CLOSED: return "closed";
    case WS_ERR_HANDSHAKE: return "handshake";
    case WS_ERR_WRONG_STATE: return "wrong_state";
    case WS_ERR_INVALID_ARGUMENT: return "invalid_argument";
    case WS_ERR_RNG: return "rng";
    case WS_ERR_NULL_ARGUMENT: return "null_argument";
    case WS_ERR_BUFFER_TOO_SMALL: return "buffer_too_small";
    case WS_ERR_PANIC: return "panic";
    case WS_ERR_POISONED: return "poisoned";
    case WS_ERR_NO_MEMORY: return "no_memory";
    case WS_ERR_INPUT_FULL: return "input_full";
    }
    return "unknown";
}

static const char *state_word(ws_state_t s) {
    switch (s) {
    case WS_STATE_CONNECTING: return "connecting";
    case WS_STATE_OPEN: return "open";
    case WS_STATE_REMOTE_CLOSING: return "remote_closing";
    case WS_STATE_LOCAL_CLOSING: return "local_closing";
    case WS_STATE_CLOSED: return "closed";
    case WS_STATE_REJECTING: return "rejecting";
    }
    return "unknown";
}

/* Records a receive result; a server refuses a bad request at once. */
static bool settle(driver_t *d, ws_result_t r) {
    if (r == WS_OK) return true;
    if (r == WS_ERR_HANDSHAKE && !d->client && !d->got.hint.len) {
        uint16_t hint = ws_conn_handshake_status_hint(d->conn);
        char buf[16];
        snprintf(buf, sizeof buf, "%u", (unsigned)hint);
        sb_puts(&d->got.hint, buf);
        ws_result_t rr = ws_conn_reject(d->conn, hint, NULL, 0, false);
        if (rr != WS_OK) problem(d, "reject", rr);
    }
    sb_word(&d->got.result, result_word(r));
    return false;
}

static void feed(driver_t *d, const input_t *in, bool bytewise) {
    if (in->eof) {
        if (settle(d, ws_conn_receive_eof(d->conn))) sb_word(&d->got.result, "ok");
        pump(d);
        return;
    }
    if (!bytewise) {
        if (settle(d, ws_conn_receive(d->conn, in->bytes, in->len))) sb_word(&d->got.result, "ok");
        pump(d);
        return;
    }
    for (size_t i = 0; i < in->len; i++) {
        bool ok = settle(d, ws_conn_receive(d->conn, in->bytes + i, 1));
        pump(d);
        if (!ok) return;
        /* A transport stops reading once the connection is closed. */
        if (ws_conn_state(d->conn) == WS_STATE_CLOSED && i + 1 < in->len) break;
    }
    sb_word(&d->got.result, "ok");
}

/* Describes the output as words: an HTTP head, then frames. */
static void describe_output(const uint8_t *out, size_t n, bool client, sb_t *w) {
    if ((n >= 9 && !memcmp(out, "HTTP/1.1 ", 9)) || (n >= 4 && !memcmp(out, "GET ", 4))) {
        size_t end = n;
        for (size_t i = 0; i + 4 <= n; i++) {
            if (!memcmp(out + i, "\r\n\r\n", 4)) {
                end = i + 4;
                break;
            }
        }
        if (out[0] == 'G') {
            sb_word(w, "request");
        } else {
            char word[32];
            char status[4] = {0};
            if (end >= 12) memcpy(status, out + 9, 3);
            bool version = true;
            if (!strcmp(status, "426")) {
                static const char want[] = "\r\nSec-WebSocket-Version: 13\r\n";
                version = false;
                for (size_t i = 0; i + sizeof want - 1 <= end; i++)
                    if (!memcmp(out + i, want, sizeof want - 1)) version = true;
            }
            snprintf(word, sizeof word, "http:%s%s", status, version ? "" : "-noversion");
            sb_word(w, word);
        }
        out += end;
        n -= end;
    }
    while (n) {
        if (n < 2) {
            sb_word(w, "truncated");
            return;
        }
        unsigned opcode = out[0] & 15;
        bool masked = (out[1] & 0x80) != 0;
        uint64_t len = out[1] & 0x7f;
        size_t pos = 2;
        if (len == 126) {
            if (n < 4) {
                sb_word(w, "truncated");
                return;
            }
            len = (uint64_t)out[2] << 8 | out[3];
            pos = 4;
        } else if (len == 127) {
            if (n < 10) {
                sb_word(w, "truncated");
                return;
            }
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | out[2 + i];
            pos = 10;
        }
        uint8_t key[4] = {0, 0, 0, 0};
        if (masked) {
            if (n < pos + 4) {
                sb_word(w, "truncated");
                return;
            }
            memcpy(key, out + pos, 4);
            pos += 4;
        }
        if (n - pos < len) {
            sb_word(w, "truncated");
            return;
        }
        uint8_t *p = malloc(len + 1);
        for (size_t i = 0; i < len; i++) p[i] = out[pos + i] ^ key[i % 4];
        out += pos + len;
        n -= pos + len;
        if (masked != client) {
            sb_word(w, "badmask");
            free(p);
            continue;
        }
        char word[32];
        if (opcode == 8 && len >= 2) {
            snprintf(word, sizeof word, "close:%u", (unsigned)(p[0] << 8 | p[1]));
            sb_word(w, word);
        } else if (opcode == 8 && len == 0) {
            sb_word(w, "close");
        } else {
            const char *name = opcode == 8   ? "close_bad:"
                               : opcode == 9 ? "ping:"
                               : opcode == 10 ? "pong:"
                               : opcode == 1  ? "text:"
                               : opcode == 2  ? "binary:"
                                              : "opcode?:";
            sb_word(w, name);
            sb_hex(w, p, len);
        }
        free(p);
    }
}

/* Builds the connection the case asks for; returns a message on failure. */
static const char *build(const case_t *c, ws_conn_t **conn, bool *skip) {
    (void)skip; /* every feature the catalogue uses is in the C API now */
    static char msg[256];
    ws_config_t *cfg = ws_config_new();
    ws_str_t protocols[MAX_PROTOCOLS];
    size_t n_protocols = 0;
    bool with_params = false;
    const ws_deflate_params_t default_params = {false, false, 15, 15};
    char words[512];
    snprintf(words, sizeof words, "%s", sb_str(&c->config));
    ws_result_t r = ws_config_set_rng(cfg, counter_rng, NULL);
    char *next = words;
    while (r == WS_OK && *next) {
        /* One space-separated word, NUL-terminated in place. */
        char *w = next;
        char *sp = strchr(w, ' ');
        if (sp) {
            *sp = '\0';
            next = sp + 1;
        } else {
            next = w + strlen(w);
        }
        if (!*w) continue;
        char *eq = strchr(w, '=');
        if (!eq) {
            snprintf(msg, sizeof msg, "bad config word %.100s", w);
            ws_config_free(cfg);
            return msg;
        }
        *eq = '\0';
        const char *v = eq + 1;
        unsigned long long num = strtoull(v, NULL, 10);
        if (!strcmp(w, "max_frame_size")) {
            r = ws_config_set_max_frame_size(cfg, num);
        } else if (!strcmp(w, "max_message_size")) {
            r = ws_config_set_max_message_size(cfg, num);
        } else if (!strcmp(w, "max_handshake_size")) {
            r = ws_config_set_max_handshake_size(cfg, (size_t)num);
        } else if (!strcmp(w, "max_handshake_headers")) {
            r = ws_config_set_max_handshake_headers(cfg, (size_t)num);
        } else if (!strcmp(w, "message_mode") && !strcmp(v, "stream")) {
            r = ws_config_set_message_mode(cfg, WS_MESSAGE_MODE_STREAM);
        } else if (!strcmp(w, "auto_pong")) {
            r = ws_config_set_auto_pong(cfg, num != 0);
        } else if (!strcmp(w, "auto_close_reply")) {
            r = ws_config_set_auto_close_reply(cfg, num != 0);
        } else if (!strcmp(w, "protocols")) {
            /* Comma-separated; the pointers stay valid while `words` lives. */
            size_t total = strlen(v), start = 0;
            for (size_t i = 0; i <= total && n_protocols < MAX_PROTOCOLS; i++) {
                if (i == total || v[i] == ',') {
                    protocols[n_protocols].ptr = v + start;
                    protocols[n_protocols].len = i - start;
                    n_protocols++;
                    start = i + 1;
                }
            }
        } else if (!strcmp(w, "deflate") && !strcmp(v, "1")) {
            r = ws_config_set_deflate(cfg, true);
        } else if (!strcmp(w, "deflate_params") && !strcmp(v, "default")) {
            /* Frames-only connection that negotiated the RFC 7692 defaults
             * elsewhere; also turns compression on in the config. */
            r = ws_config_set_deflate(cfg, true);
            with_params = true;
        } else {
            snprintf(msg, sizeof msg, "unsupported config %.100s=%.100s", w, v);
            ws_config_free(cfg);
            return msg;
        }
    }
    if (r != WS_OK) {
        snprintf(msg, sizeof msg, "config: %s", ws_result_str(r));
        ws_config_free(cfg);
        return msg;
    }
    bool client = !strcmp(c->role, "client");
    if (!client && strcmp(c->role, "server")) {
        ws_config_free(cfg);
        return "unknown role";
    }
    if (!strcmp(c->mode, "frames")) {
        ws_role_t role = client ? WS_ROLE_CLIENT : WS_ROLE_SERVER;
        r = with_params ? ws_conn_new_frames_only_deflate(cfg, role, &default_params, NULL, 0, conn)
                        : ws_conn_new_frames_only(cfg, role, NULL, 0, conn);
    } else if (!strcmp(c->mode, "handshake")) {
        r = client ? ws_conn_new_client(cfg, conn) : ws_conn_new_server(cfg, conn);
        if (r == WS_OK && client) {
            r = ws_conn_send_request(*conn, "example.com", 11, "/chat", 5, protocols, n_protocols, NULL, 0);
            if (r != WS_OK) {
                ws_conn_free(*conn);
                *conn = NULL;
            }
        }
    } else {
        ws_config_free(cfg);
        return "unknown mode";
    }
    ws_config_free(cfg);
    if (r != WS_OK) {
        snprintf(msg, sizeof msg, "creating the connection: %s", ws_result_str(r));
        return msg;
    }
    return NULL;
}

static void outcome_free(outcome_t *o) {
    sb_free(&o->result);
    sb_free(&o->events);
    sb_free(&o->state);
    sb_free(&o->output);
    sb_free(&o->hint);
}

/* Runs a case; returns false (with `why` filled) when it could not run. */
static bool run(const case_t *c, bool bytewise, outcome_t *got, sb_t *why, bool *skip) {
    driver_t d;
    memset(&d, 0, sizeof d);
    const char *err = build(c, &d.conn, skip);
    if (err) {
        sb_puts(why, err);
        return false;
    }
    d.client = !strcmp(c->role, "client");
    pump(&d);
    for (size_t i = 0; i < c->n_inputs; i++) feed(&d, &c->inputs[i], bytewise);
    for (size_t i = 0; i < d.n_recs; i++) {
        rec_t *r = &d.recs[i];
        if (r->is_data) {
            /* A frame never finished is dropped (see cases.txt). */
            if (r->frame_finished) {
                char head[32];
                snprintf(head, sizeof head, "%s:%d:", r->text ? "text" : "binary", 1 | (r->message_finished ? 2 : 0));
                sb_word(&d.got.events, head);
                sb_hex(&d.got.events, (const uint8_t *)sb_str(&r->data), r->data.len);
            }
        } else {
            sb_word(&d.got.events, sb_str(&r->token));
        }
        sb_free(&r->token);
        sb_free(&r->data);
    }
    free(d.recs);
    sb_puts(&d.got.state, state_word(ws_conn_state(d.conn)));
    const uint8_t *out = NULL;
    size_t out_len = 0;
    ws_result_t r = ws_conn_output_peek(d.conn, &out, &out_len);
    if (r != WS_OK) problem(&d, "output_peek", r);
    describe_output(out, out_len, d.client, &d.got.output);
    ws_conn_free(d.conn);
    *got = d.got;
    if (d.problems.len) {
        sb_puts(why, sb_str(&d.problems));
        sb_free(&d.problems);
        return false;
    }
    return true;
}

static int report_field(const char *name, const sb_t *want, const sb_t *got) {
    if (!strcmp(sb_str(want), sb_str(got))) return 0;
    printf("    %s: expected [%s] got [%s]\n", name, sb_str(want), sb_str(got));
    return 1;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : getenv("WSPROTO_HOSTILE_CASES");
    if (!path || !*path) path = "tests/hostile/cases.txt";
    char *text = read_file(path);
    if (!text) {
        fprintf(stderr, "cannot read %s (run from the repo root, or pass the path)\n", path);
        return 1;
    }
    case_t *cases = NULL;
    long n = parse_cases(text, &cases);
    if (n < 0) {
        fprintf(stderr, "%s: malformed catalogue\n", path);
        return 1;
    }
    int failed = 0, skipped = 0;
    for (long i = 0; i < n; i++) {
        const case_t *c = &cases[i];
        bool case_failed = false, case_skipped = false;
        for (int bytewise = 0; bytewise < 2 && !case_skipped; bytewise++) {
            const char *how = bytewise ? "byte by byte" : "whole";
            outcome_t got;
            memset(&got, 0, sizeof got);
            sb_t why = {0};
            bool skip = false;
            if (!run(c, bytewise, &got, &why, &skip)) {
                if (skip) {
                    printf("SKIP %s: %s\n", c->name, sb_str(&why));
                    case_skipped = true;
                } else {
                    printf("FAIL %s (%s): %s\n", c->name, how, sb_str(&why));
                    case_failed = true;
                }
            } else {
                const outcome_t *want = &c->expected;
                bool same = !strcmp(sb_str(&want->result), sb_str(&got.result)) &&
                            !strcmp(sb_str(&want->events), sb_str(&got.events)) &&
                            !strcmp(sb_str(&want->state), sb_str(&got.state)) &&
                            !strcmp(sb_str(&want->output), sb_str(&got.output)) &&
                            !strcmp(sb_str(&want->hint), sb_str(&got.hint));
                if (!same) {
                    printf("FAIL %s (%s):\n", c->name, how);
                    report_field("result", &want->result, &got.result);
                    report_field("events", &want->events, &got.events);
                    report_field("state", &want->state, &got.state);
                    report_field("output", &want->output, &got.output);
                    report_field("hint", &want->hint, &got.hint);
                    case_failed = true;
                }
            }
            sb_free(&why);
            outcome_free(&got);
        }
        failed += case_failed;
        skipped += case_skipped;
    }
    printf("test_hostile: %ld cases, %d failed, %d skipped (C API lacks a feature)\n", n, failed, skipped);
    int status = 0;
    if (n < MIN_CASES) {
        printf("FAIL: only %ld cases; the catalogue promises at least %d\n", n, MIN_CASES);
        status = 1;
    }
    if (failed) status = 1;
    for (long i = 0; i < n; i++) {
        for (size_t j = 0; j < cases[i].n_inputs; j++) free(cases[i].inputs[j].bytes);
        sb_free(&cases[i].config);
        outcome_free(&cases[i].expected);
    }
    free(cases);
    free(text);
    return status;
}
