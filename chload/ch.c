/* The ClickHouse HTTP client of chload: synchronous statements for DDL and
 * queries, background inserts on a libcurl multi handle (HTTP keep-alive, one
 * connection per request slot), classification of failures into retryable,
 * rejected data and the rest, identifier quoting and server capabilities. */
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chload.h"
#include "log.h"

struct ch_req {
	struct ch *c;
	CURL *easy;
	void *user;
	struct cdc_buf url;
	struct cdc_buf resp;
	char errbuf[CURL_ERROR_SIZE];
	char err[CDC_ERRLEN];
	int busy;
	size_t replica; /* the index of the URL it went to */
	enum ch_result result;
	struct ch_req *next_done;
};

/* Replicas of one shard take any request alike (--url A,B): a request that
 * fails to reach one goes to the next on its retry. */
#define CH_MAX_URLS 16

struct ch {
	struct ch_conf conf;
	char *urls[CH_MAX_URLS];
	size_t nurl, cur; /* cur: where requests go now */
	CURLM *multi;
	CURL *sync;
	struct curl_slist *hdr;
	char *params; /* settings sent with every request, or NULL */
	int running;
	struct ch_req *done_head, *done_tail;
};

int
ch_caps_from_version(struct ch_caps *caps, const char *version)
{
	int major = 0, minor = 0;

	memset(caps, 0, sizeof(*caps));
	if (sscanf(version, "%d.%d", &major, &minor) != 2 || major < 1)
		return -1;
	caps->major = major;
	caps->minor = minor;
#define AT_LEAST(a, b) (major > (a) || (major == (a) && minor >= (b)))
	caps->datetime64 = AT_LEAST(20, 1);
	caps->lowcard = AT_LEAST(20, 1);
	caps->date32 = AT_LEAST(21, 9);
	caps->decimal256 = AT_LEAST(22, 1);
	caps->dedup_token = AT_LEAST(22, 2);
	caps->is_deleted = AT_LEAST(23, 2);
	caps->async_insert = AT_LEAST(21, 11);
#undef AT_LEAST
	return 0;
}

/* Backslash escapes for a quoted identifier or literal: the quote, the
 * backslash and control bytes; the rest (UTF-8 included) as it is. */
static void
quote(struct cdc_buf *b, const char *s, size_t n, char q)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	cdc_buf_putc(b, q);
	for (i = 0; i < n; i++) {
		if (u[i] == (unsigned char)q || u[i] == '\\') {
			cdc_buf_putc(b, '\\');
			cdc_buf_putc(b, u[i]);
		} else if (u[i] < 0x20 || u[i] == 0x7f) {
			cdc_buf_puts(b, "\\x");
			cdc_buf_putc(b, hex[u[i] >> 4]);
			cdc_buf_putc(b, hex[u[i] & 15]);
		} else {
			cdc_buf_putc(b, u[i]);
		}
	}
	cdc_buf_putc(b, q);
}

void
ch_quote_ident(struct cdc_buf *b, const char *s, size_t n)
{
	quote(b, s, n, '`');
}

void
ch_quote_string(struct cdc_buf *b, const char *s, size_t n)
{
	quote(b, s, n, '\'');
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct cdc_buf *b = arg;

	/* Keep the start of an error text; an insert answers nothing. */
	if (b->len < 64 * 1024)
		cdc_buf_append(b, p, size * n);
	return size * n;
}

/* The whole answer of a query (a row read back may be large). */
static size_t
on_body_full(char *p, size_t size, size_t n, void *arg)
{
	cdc_buf_append(arg, p, size * n);
	return size * n;
}

struct ch *
ch_new(const struct ch_conf *conf)
{
	struct ch *c;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c = cdc_xcalloc(1, sizeof(*c));
	c->conf = *conf;
	c->nurl = ch_split_urls(conf->url, c->urls, CH_MAX_URLS);
	c->multi = curl_multi_init();
	c->sync = curl_easy_init();
	if (c->multi == NULL || c->sync == NULL) {
		cdc_error("cannot initialise libcurl");
		abort();
	}
	/* Errors come back as text with a code; RowBinary is binary. */
	c->hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	c->hdr = curl_slist_append(c->hdr, "Expect:");
	return c;
}

void
ch_free(struct ch *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->sync);
	curl_multi_cleanup(c->multi);
	curl_slist_free_all(c->hdr);
	for (; c->nurl > 0; c->nurl--)
		free(c->urls[c->nurl - 1]);
	free(c->params);
	free(c);
	curl_global_cleanup();
}

static void
setup(struct ch *c, CURL *e, const char *url, struct cdc_buf *resp,
    char *errbuf)
{
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdr);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->conf.timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Basic authentication needs a user name to go with a password. */
	if (c->conf.user != NULL || c->conf.password != NULL)
		curl_easy_setopt(e, CURLOPT_USERNAME,
		    c->conf.user != NULL ? c->conf.user : "default");
	if (c->conf.password != NULL)
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->conf.password);
	errbuf[0] = '\0';
}

void
ch_set_params(struct ch *c, const char *params)
{
	free(c->params);
	c->params = params != NULL ? cdc_xstrdup(params) : NULL;
}

/* Builds URL?query=SQL&params, then the settings of every request. */
static void
make_url(struct ch *c, struct cdc_buf *u, const char *sql, const char *params)
{
	const char *url = c->urls[c->cur];
	char sep = strchr(url, '?') != NULL ? '&' : '?', *q;

	u->len = 0;
	cdc_buf_puts(u, url);
	if (sql != NULL) {
		q = curl_easy_escape(NULL, sql, 0);
		if (q == NULL)
			abort();
		cdc_buf_printf(u, "%cquery=%s", sep, q);
		curl_free(q);
		sep = '&';
	}
	if (params != NULL) {
		cdc_buf_printf(u, "%c%s", sep, params);
		sep = '&';
	}
	if (c->params != NULL)
		cdc_buf_printf(u, "%c%s", sep, c->params);
	cdc_buf_putc(u, '\0');
}

/* The exception code in n bytes of a ClickHouse error text ("Code: 252,
 * ..." on 18.16, "Code: 252. DB::Exception" later), or -1. */
static int
server_code_of(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 6 < n; i++)
		if (memcmp(p + i, "Code: ", 6) == 0)
			return (int)strtol((const char *)p + i + 6, NULL, 10);
	return -1;
}

static int
server_code(const struct cdc_buf *b)
{
	return server_code_of(b->p, b->len);
}

int
ch_error_code(const char *err)
{
	return server_code_of((const uint8_t *)err, strlen(err));
}

/* Codes of overload and transient trouble, worth a retry. */
static int
retryable_code(int code)
{
	static const int codes[] = {
	    159, /* TIMEOUT_EXCEEDED */
	    202, /* TOO_MANY_SIMULTANEOUS_QUERIES */
	    203, /* NO_FREE_CONNECTION */
	    209, /* SOCKET_TIMEOUT */
	    210, /* NETWORK_ERROR */
	    236, /* ABORTED */
	    241, /* MEMORY_LIMIT_EXCEEDED */
	    242, /* TABLE_IS_READ_ONLY */
	    252, /* TOO_MANY_PARTS */
	    319, /* UNKNOWN_STATUS_OF_INSERT */
	    425, /* SYSTEM_ERROR */
	    439, /* CANNOT_SCHEDULE_TASK */
	    999, /* KEEPER_EXCEPTION */
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

/* Codes that say the statement or the setup is wrong, not the rows. */
static int
structural_code(int code)
{
	static const int codes[] = {
	    10,  /* NOT_FOUND_COLUMN_IN_BLOCK */
	    16,  /* NO_SUCH_COLUMN_IN_TABLE */
	    47,  /* UNKNOWN_IDENTIFIER */
	    60,  /* UNKNOWN_TABLE */
	    62,  /* SYNTAX_ERROR */
	    81,  /* UNKNOWN_DATABASE */
	    115, /* UNKNOWN_SETTING */
	    164, /* READONLY */
	    192, /* UNKNOWN_USER */
	    193, /* WRONG_PASSWORD */
	    194, /* REQUIRED_PASSWORD */
	    497, /* ACCESS_DENIED */
	    516, /* AUTHENTICATION_FAILED */
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

/* One line of the server's answer for messages. */
static void
server_text(const struct cdc_buf *b, char *err, size_t errlen)
{
	size_t n = b->len;
	size_t i;

	while (n > 0 && (b->p[n - 1] == '\n' || b->p[n - 1] == ' '))
		n--;
	if (n > errlen - 1)
		n = errlen - 1;
	for (i = 0; i < n; i++)
		err[i] = b->p[i] == '\n' ? ' ' : (char)b->p[i];
	err[n] = '\0';
}

static enum ch_result
classify(CURL *e, CURLcode rc, const char *errbuf, const struct cdc_buf *body,
    char *err, size_t errlen)
{
	long status = 0;
	int code;

	if (rc != CURLE_OK) {
		cdc_err(err, errlen, "%s",
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		return CH_RETRY;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return CH_OK;
	code = server_code(body);
	if (body->len > 0) {
		char text[CDC_ERRLEN - 32];

		server_text(body, text, sizeof(text));
		cdc_err(err, errlen, "HTTP %ld: %s", status, text);
	} else {
		cdc_err(err, errlen, "HTTP %ld", status);
	}
	if (code == -1)
		return status >= 500 || status == 429 || status == 408 ?
		    CH_RETRY : CH_FAIL;
	if (retryable_code(code))
		return CH_RETRY;
	if (structural_code(code) || status == 401 || status == 403)
		return CH_FAIL;
	return CH_DATA;
}

size_t
ch_split_urls(const char *list, char **urls, size_t max)
{
	const char *p = list, *e;
	size_t n = 0;

	while (n < max) {
		e = strchr(p, ',');
		urls[n++] = e != NULL ? cdc_xstrndup(p, (size_t)(e - p)) :
		    cdc_xstrdup(p);
		if (e == NULL)
			break;
		p = e + 1;
	}
	return n;
}

const char *
ch_url(const struct ch *c)
{
	return c->urls[c->cur];
}

/* After a request to replica i that may have failed for that replica
 * alone: later requests go to the next one (once, when several failed). */
static void
next_replica(struct ch *c, enum ch_result res, size_t i)
{
	if (res == CH_RETRY && c->nurl > 1 && i == c->cur)
		c->cur = (c->cur + 1) % c->nurl;
}

enum ch_result
ch_query(struct ch *c, const char *sql, const void *body, size_t bodylen,
    struct cdc_buf *out, char *err, size_t errlen)
{
	struct cdc_buf url, resp;
	char errbuf[CURL_ERROR_SIZE];
	enum ch_result res;
	CURLcode rc;
	size_t replica = c->cur;

	cdc_buf_init(&url);
	cdc_buf_init(&resp);
	if (body != NULL) {
		make_url(c, &url, sql, NULL);
	} else {
		make_url(c, &url, NULL, NULL);
		body = sql;
		bodylen = strlen(sql);
	}
	setup(c, c->sync, (const char *)url.p, &resp, errbuf);
	curl_easy_setopt(c->sync, CURLOPT_WRITEFUNCTION, on_body_full);
	curl_easy_setopt(c->sync, CURLOPT_POST, 1L);
	curl_easy_setopt(c->sync, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->sync, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)bodylen);
	rc = curl_easy_perform(c->sync);
	res = classify(c->sync, rc, errbuf, &resp, err, errlen);
	next_replica(c, res, replica);
	if (res == CH_OK && out != NULL)
		cdc_buf_append(out, resp.p, resp.len);
	cdc_buf_fini(&url);
	cdc_buf_fini(&resp);
	return res;
}

struct ch_req *
ch_req_new(struct ch *c, void *user)
{
	struct ch_req *r;

	r = cdc_xcalloc(1, sizeof(*r));
	r->c = c;
	r->user = user;
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		abort();
	cdc_buf_init(&r->url);
	cdc_buf_init(&r->resp);
	return r;
}

void
ch_req_free(struct ch_req *r)
{
	struct ch_req **pp;

	if (r == NULL)
		return;
	if (r->busy) {
		curl_multi_remove_handle(r->c->multi, r->easy);
		r->c->running--;
	}
	/* Out of the list of finished requests, if it is there. */
	for (pp = &r->c->done_head; *pp != NULL; pp = &(*pp)->next_done) {
		if (*pp == r) {
			*pp = r->next_done;
			break;
		}
	}
	r->c->done_tail = NULL;
	for (pp = &r->c->done_head; *pp != NULL; pp = &(*pp)->next_done)
		r->c->done_tail = *pp;
	curl_easy_cleanup(r->easy);
	cdc_buf_fini(&r->url);
	cdc_buf_fini(&r->resp);
	free(r);
}

void *
ch_req_user(const struct ch_req *r)
{
	return r->user;
}

void
ch_req_start(struct ch_req *r, const char *sql, const char *params,
    const void *body, size_t len)
{
	CHL_ASSERT(!r->busy);
	make_url(r->c, &r->url, sql, params);
	r->replica = r->c->cur;
	r->resp.len = 0;
	setup(r->c, r->easy, (const char *)r->url.p, &r->resp, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	if (curl_multi_add_handle(r->c->multi, r->easy) != CURLM_OK)
		abort();
	r->busy = 1;
	r->c->running++;
}

int
ch_req_busy(const struct ch_req *r)
{
	return r->busy;
}

enum ch_result
ch_req_result(const struct ch_req *r, const char **err)
{
	*err = r->err;
	return r->result;
}

void
ch_wait(struct ch *c, int fd, int timeout_ms)
{
	struct curl_waitfd wfd;
	struct ch_req *r;
	CURLMsg *m;
	int n, left;

	wfd.fd = fd;
	wfd.events = CURL_WAIT_POLLIN;
	wfd.revents = 0;
	/* Finished requests not yet handed out: their caller must see them
	 * now (loader_wait_input() waits through here too). */
	if (timeout_ms > 0 && c->done_head == NULL)
		curl_multi_poll(c->multi, fd >= 0 ? &wfd : NULL,
		    fd >= 0 ? 1 : 0, timeout_ms, NULL);
	curl_multi_perform(c->multi, &n);
	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r->result = classify(r->easy, m->data.result, r->errbuf,
		    &r->resp, r->err, sizeof(r->err));
		next_replica(c, r->result, r->replica);
		curl_multi_remove_handle(c->multi, r->easy);
		r->busy = 0;
		c->running--;
		r->next_done = NULL;
		if (c->done_tail != NULL)
			c->done_tail->next_done = r;
		else
			c->done_head = r;
		c->done_tail = r;
	}
}

struct ch_req *
ch_next_done(struct ch *c)
{
	struct ch_req *r = c->done_head;

	if (r != NULL) {
		c->done_head = r->next_done;
		if (c->done_head == NULL)
			c->done_tail = NULL;
		r->next_done = NULL;
	}
	return r;
}

int
ch_done_waiting(const struct ch *c)
{
	return c->done_head != NULL;
}

int
ch_running(const struct ch *c)
{
	return c->running;
}

const char *
ch_curl_version(void)
{
	return curl_version();
}
