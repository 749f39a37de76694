/* HTTP/1.1 on a connection libcurl opened (see http_raw.h): the response
 * parser, the chunked decoder and the exchange itself. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http.h"
#include "http_raw.h"

/* ---- the response head -------------------------------------------------- */

/* Whether the comma-separated list v[0..n) holds the token lname. */
static int has_token(const char *v, size_t n, const char *lname)
{
    size_t i = 0;
    while (i < n) {
        size_t a, b;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        a = i;
        while (i < n && v[i] != ',')
            i++;
        b = i;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        if (b > a && dyn_http_name_is(v + a, b - a, lname))
            return 1;
    }
    return 0;
}

static int fail(const char **why, const char *msg)
{
    *why = msg;
    return -1;
}

int dyn_raw_parse_head(const char *buf, size_t len, dyn_raw_head *out, const char **why)
{
    const char *end = NULL, *p, *line;
    size_t i;
    int minor;

    for (i = 3; i < len && i < DYN_RAW_MAX_HEAD; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = buf + i + 1;
            break;
        }
    if (!end)
        return len >= DYN_RAW_MAX_HEAD ? fail(why, "response head longer than 64 KiB") : 0;

    /* HTTP/1.x NNN reason */
    if (end - buf < 14 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1')
        || buf[8] != ' ' || buf[9] < '1' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9'
        || buf[11] < '0' || buf[11] > '9' || (buf[12] != ' ' && buf[12] != '\r'))
        return fail(why, "not an HTTP/1.x status line");
    minor = buf[7] - '0';
    out->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    out->head_len = (size_t)(end - buf);
    out->length = -1;
    out->chunked = 0;
    out->close = minor == 0;

    p = memchr(buf, '\n', (size_t)(end - buf)) + 1;
    while (p < end - 2) {
        const char *colon, *v, *ve;
        line = p;
        p = memchr(line, '\n', (size_t)(end - line));
        if (!p || p == line || p[-1] != '\r')
            return fail(why, "header line without CRLF");
        ve = p - 1;
        p++;
        if (*line == ' ' || *line == '\t')
            return fail(why, "folded header line");
        colon = memchr(line, ':', (size_t)(ve - line));
        if (!colon || colon == line)
            return fail(why, "header line without a name");
        for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
            ;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (dyn_http_name_is(line, (size_t)(colon - line), "content-length")) {
            long long n = 0;
            const char *d;
            if (v == ve)
                return fail(why, "empty Content-Length");
            for (d = v; d < ve; d++) {
                if (*d < '0' || *d > '9' || n > (1LL << 50))
                    return fail(why, "bad Content-Length");
                n = n * 10 + (*d - '0');
            }
            if (out->length >= 0 && out->length != n)
                return fail(why, "conflicting Content-Length headers");
            out->length = n;
        } else if (dyn_http_name_is(line, (size_t)(colon - line), "transfer-encoding")) {
            if (!has_token(v, (size_t)(ve - v), "chunked"))
                return fail(why, "unsupported Transfer-Encoding");
            out->chunked = 1;
        } else if (dyn_http_name_is(line, (size_t)(colon - line), "connection")) {
            if (has_token(v, (size_t)(ve - v), "close"))
                out->close = 1;
            else if (has_token(v, (size_t)(ve - v), "keep-alive"))
                out->close = 0;
        }
    }
    if (out->chunked)
        out->length = -1;
    return 1;
}

/* ---- chunked bodies ------------------------------------------------------ */

enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

void dyn_raw_chunks_init(dyn_raw_chunks *c, size_t start)
{
    c->rpos = c->wpos = start;
    c->left = 0;
    c->phase = CH_SIZE;
}

/* The line at buf[from..len) ending in CRLF: its length without CRLF, or
 * (size_t)-1 when incomplete. */
static size_t line_at(const char *buf, size_t from, size_t len)
{
    const char *nl = memchr(buf + from, '\n', len - from);
    return nl ? (size_t)(nl - (buf + from)) : (size_t)-1;
}

int dyn_raw_dechunk(dyn_raw_chunks *c, char *buf, size_t len, const char **why)
{
    for (;;) {
        size_t n, i;
        switch (c->phase) {
        case CH_SIZE: {
            size_t size = 0;
            int digits = 0;
            if ((n = line_at(buf, c->rpos, len)) == (size_t)-1)
                return len - c->rpos > 1024 ? fail(why, "chunk size line too long") : 0;
            if (n == 0 || buf[c->rpos + n - 1] != '\r')
                return fail(why, "bad chunk size line");
            for (i = c->rpos; i < c->rpos + n - 1; i++) {
                int ch = (unsigned char)buf[i], d;
                if (ch >= '0' && ch <= '9')
                    d = ch - '0';
                else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
                    d = (ch | 0x20) - 'a' + 10;
                else if (ch == ';' || ch == ' ' || ch == '\t')
                    break; /* a chunk extension: ignored */
                else
                    return fail(why, "bad chunk size");
                if (++digits > 15)
                    return fail(why, "chunk too large");
                size = size * 16 + (size_t)d;
            }
            if (!digits)
                return fail(why, "bad chunk size");
            c->rpos += n + 1;
            c->left = size;
            c->phase = size ? CH_DATA : CH_TRAILER;
            break;
        }
        case CH_DATA:
            n = len - c->rpos < c->left ? len - c->rpos : c->left;
            memmove(buf + c->wpos, buf + c->rpos, n);
            c->wpos += n;
            c->rpos += n;
            c->left -= n;
            if (c->left)
                return 0;
            c->phase = CH_DATA_END;
            break;
        case CH_DATA_END:
            if (len - c->rpos < 2)
                return 0;
            if (buf[c->rpos] != '\r' || buf[c->rpos + 1] != '\n')
                return fail(why, "chunk without CRLF after its data");
            c->rpos += 2;
            c->phase = CH_SIZE;
            break;
        case CH_TRAILER:
            /* trailer lines, then an empty line */
            if ((n = line_at(buf, c->rpos, len)) == (size_t)-1)
                return len - c->rpos > DYN_RAW_MAX_HEAD ? fail(why, "trailer too long") : 0;
            if (n == 0 || buf[c->rpos + n - 1] != '\r')
                return fail(why, "trailer line without CRLF");
            c->rpos += n + 1;
            if (n == 1)
                c->phase = CH_DONE;
            break;
        default:
            return 1;
        }
    }
}

/* ---- the exchange -------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void disconnect(dyn_raw *r)
{
    if (r->curl)
        curl_easy_cleanup(r->curl);
    r->curl = NULL;
    r->reused = 0;
}

void dyn_raw_free(dyn_raw *r)
{
    disconnect(r);
    free(r->url);
    r->url = NULL;
    dyn_buf_free(&r->in);
}

static CURLcode say(char *errbuf, CURLcode rc, const char *msg)
{
    snprintf(errbuf, CURL_ERROR_SIZE, "%s", msg);
    return rc;
}

static CURLcode connect_to(dyn_raw *r, CURL *tmpl, const char *url, char *errbuf, long *connects)
{
    CURLcode rc;
    curl_socket_t s;
    char *copy;
    disconnect(r);
    if (!r->url || strcmp(r->url, url) != 0) {
        if (!(copy = strdup(url)))
            return say(errbuf, CURLE_OUT_OF_MEMORY, "out of memory");
        free(r->url);
        r->url = copy;
    }
    if (!(r->curl = curl_easy_duphandle(tmpl)))
        return say(errbuf, CURLE_OUT_OF_MEMORY, "curl_easy_duphandle failed");
    errbuf[0] = 0;
    if ((rc = curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, errbuf)) != CURLE_OK
        || (rc = curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL)) != CURLE_OK
        || (rc = curl_easy_setopt(r->curl, CURLOPT_URL, url)) != CURLE_OK
        || (rc = curl_easy_setopt(r->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1)) != CURLE_OK
        || (rc = curl_easy_setopt(r->curl, CURLOPT_CONNECT_ONLY, 1L)) != CURLE_OK
        || (rc = curl_easy_perform(r->curl)) != CURLE_OK
        || (rc = curl_easy_getinfo(r->curl, CURLINFO_ACTIVESOCKET, &s)) != CURLE_OK) {
        disconnect(r);
        return rc;
    }
    /* the error buffer is the caller's for this call only */
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, NULL);
    r->sock = s;
    (*connects)++;
    return CURLE_OK;
}

/* Waits until the socket is ready to send (out) or read, or the deadline. */
static CURLcode wait_ready(dyn_raw *r, int out, double deadline, char *errbuf)
{
    struct pollfd p;
    double left = deadline - now_ms();
    if (left <= 0)
        return say(errbuf, CURLE_OPERATION_TIMEDOUT, "no complete response within the timeout");
    p.fd = r->sock;
    p.events = out ? POLLOUT : POLLIN;
    p.revents = 0;
    if (poll(&p, 1, left > 1e9 ? 1000000000 : (int)left + 1) < 0)
        return say(errbuf, CURLE_RECV_ERROR, "poll failed");
    return CURLE_OK;
}

static CURLcode send_all(dyn_raw *r, const char *req, size_t n, double deadline, char *errbuf)
{
    size_t off = 0;
    while (off < n) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(r->curl, req + off, n - off, &sent);
        if (rc == CURLE_AGAIN) {
            if ((rc = wait_ready(r, 1, deadline, errbuf)) != CURLE_OK)
                return rc;
            continue;
        }
        if (rc != CURLE_OK)
            return rc;
        off += sent;
    }
    return CURLE_OK;
}

/* Reads one response into r->in. *got_any: whether any byte arrived. */
static CURLcode read_response(lua_State *L, dyn_raw *r, double deadline, char *errbuf,
                              int *got_any)
{
    dyn_buf *in = &r->in;
    dyn_raw_chunks ch;
    int have_head = 0, eof = 0;
    const char *why = NULL;
    size_t body_start = 0;

    dyn_buf_reset(in);
    *got_any = 0;
    for (;;) {
        if (!eof) {
            size_t got = 0;
            CURLcode rc;
            char *space = dyn_buf_reserve(L, in, in->len < 16384 ? 16384 : in->len);
            rc = curl_easy_recv(r->curl, space, in->cap - in->len, &got);
            if (rc == CURLE_AGAIN) {
                if ((rc = wait_ready(r, 0, deadline, errbuf)) != CURLE_OK)
                    return rc;
                continue;
            }
            if (rc != CURLE_OK)
                return rc;
            if (got == 0)
                eof = 1;
            in->len += got;
            if (got)
                *got_any = 1;
        }
        while (!have_head) {
            int k = dyn_raw_parse_head(in->data + body_start, in->len - body_start, &r->head, &why);
            if (k < 0)
                return say(errbuf, CURLE_WEIRD_SERVER_REPLY, why);
            if (k == 0)
                break;
            if (r->head.status >= 100 && r->head.status < 200) {
                if (r->head.status == 101)
                    return say(errbuf, CURLE_WEIRD_SERVER_REPLY, "unexpected 101 Switching Protocols");
                body_start += r->head.head_len; /* an interim response: the real one follows */
                continue;
            }
            have_head = 1;
            /* the final head goes first in `in`, for the caller */
            memmove(in->data, in->data + body_start, in->len - body_start);
            in->len -= body_start;
            body_start = r->head.head_len;
            if (r->head.status == 204 || r->head.status == 304) {
                r->head.length = 0;
                r->head.chunked = 0;
            }
            if (r->head.chunked)
                dyn_raw_chunks_init(&ch, body_start);
        }
        if (have_head) {
            if (r->head.chunked) {
                int k = dyn_raw_dechunk(&ch, in->data, in->len, &why);
                if (k < 0)
                    return say(errbuf, CURLE_WEIRD_SERVER_REPLY, why);
                if (k > 0) {
                    if (ch.rpos != in->len)
                        r->head.close = 1; /* bytes after the response: start afresh */
                    r->body = in->data + body_start;
                    r->body_len = ch.wpos - body_start;
                    return CURLE_OK;
                }
            } else if (r->head.length >= 0) {
                size_t want = body_start + (size_t)r->head.length;
                if (in->len >= want) {
                    if (in->len > want)
                        r->head.close = 1;
                    r->body = in->data + body_start;
                    r->body_len = (size_t)r->head.length;
                    return CURLE_OK;
                }
            } else if (eof) {
                /* no length: the body ends with the connection */
                r->head.close = 1;
                r->body = in->data + body_start;
                r->body_len = in->len - body_start;
                return CURLE_OK;
            }
        }
        if (eof)
            return say(errbuf, *got_any ? CURLE_PARTIAL_FILE : CURLE_GOT_NOTHING,
                       *got_any ? "the connection closed before the response was complete"
                                : "the server closed the connection without answering");
    }
}

CURLcode dyn_raw_exchange(lua_State *L, dyn_raw *r, CURL *tmpl, const char *url,
                          const char *req, size_t n, long timeout_ms, char *errbuf,
                          long *connects)
{
    double deadline = now_ms() + (double)(timeout_ms > 0 ? timeout_ms : 1L << 30);
    int attempt;
    errbuf[0] = 0;
    if (r->curl && (r->busy || strcmp(r->url, url) != 0))
        disconnect(r);
    r->busy = 1;
    for (attempt = 0;; attempt++) {
        CURLcode rc = CURLE_OK;
        int reused = r->curl != NULL && r->reused, got_any = 0;
        if (!r->curl && (rc = connect_to(r, tmpl, url, errbuf, connects)) != CURLE_OK)
            return rc;
        rc = send_all(r, req, n, deadline, errbuf);
        if (rc == CURLE_OK)
            rc = read_response(L, r, deadline, errbuf, &got_any);
        if (rc == CURLE_OK) {
            r->busy = 0;
            r->reused = 1;
            if (r->head.close)
                disconnect(r);
            return CURLE_OK;
        }
        disconnect(r);
        /* A kept-alive connection the server had closed: once more, anew. */
        if (!reused || got_any || attempt > 0 || rc == CURLE_OPERATION_TIMEDOUT) {
            r->busy = 0;
            return rc;
        }
        errbuf[0] = 0;
    }
}

void dyn_raw_head_lines(lua_State *L, const dyn_raw *r, int all, dyn_buf *out)
{
    /* the lines after the status line, which parsing checked */
    const char *p = memchr(r->in.data, '\n', r->head.head_len) + 1;
    const char *end = r->in.data + r->head.head_len, *name, *value;
    size_t nlen, vlen;
    while (dyn_http_next_header(&p, end, &name, &nlen, &value, &vlen)) {
        if (!all && !dyn_http_name_is(name, nlen, "x-amzn-requestid")
            && !dyn_http_name_is(name, nlen, "x-amz-crc32"))
            continue;
        dyn_buf_add(L, out, name, nlen);
        dyn_buf_add(L, out, ": ", 2);
        dyn_buf_add(L, out, value, vlen);
        dyn_buf_add(L, out, "\r\n", 2);
    }
}
