/* The schema registry client of registry.h, over libcurl, with jansson for
 * the JSON of requests and answers. Only the requests of Confluent's
 * documented API that docs/kafka.md lists are made, and only with the
 * fields that API documents as required: no "schemaType" (AVRO is its
 * default, and Hortonworks' registry answers 500 to the field). */
#include <curl/curl.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opt.h"
#include "registry.h"
#include "sys.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct cdc_registry {
	CURL *curl;
	char *url; /* without a trailing slash */
	char *user, *password;
	struct curl_slist *hdr;
	int64_t budget_ms;
	struct cdc_buf body; /* the last answer */
	long status;
	uint64_t requests;
	char curl_err[CURL_ERROR_SIZE];
};

const char *
cdc_registry_url(const char *flag)
{
	if (flag != NULL && flag[0] != '\0')
		return flag;
	return cdc_getenv("CDC_SCHEMA_REGISTRY_URL");
}

static size_t
on_body(char *p, size_t size, size_t n, void *opaque)
{
	cdc_buf_append(opaque, p, size * n);
	return size * n;
}

/* The user and password of the environment, the password perhaps from
 * a file; both owned by r. */
static int
credentials(struct cdc_registry *r, char *err, size_t errlen)
{
	const char *user = cdc_getenv("CDC_SCHEMA_REGISTRY_USER");
	const char *pw = cdc_getenv("CDC_SCHEMA_REGISTRY_PASSWORD");
	const char *file = cdc_getenv("CDC_SCHEMA_REGISTRY_PASSWORD_FILE");

	if (user == NULL)
		return 0;
	r->user = cdc_xstrdup(user);
	if (pw != NULL && file != NULL)
		return cdc_err(err, errlen, "cannot use "
		    "CDC_SCHEMA_REGISTRY_PASSWORD with "
		    "CDC_SCHEMA_REGISTRY_PASSWORD_FILE");
	if (file != NULL) {
		r->password = cdc_read_secret(file, err, errlen);
		return r->password == NULL ? -1 : 0;
	}
	r->password = cdc_xstrdup(pw != NULL ? pw : "");
	return 0;
}

/* libcurl's TLS files from the environment. */
static void
tls_files(struct cdc_registry *r)
{
	static const struct {
		const char *env;
		CURLoption opt;
	} files[] = {
	    {"CDC_SCHEMA_REGISTRY_CA_FILE", CURLOPT_CAINFO},
	    {"CDC_SCHEMA_REGISTRY_CERT_FILE", CURLOPT_SSLCERT},
	    {"CDC_SCHEMA_REGISTRY_KEY_FILE", CURLOPT_SSLKEY},
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		v = cdc_getenv(files[i].env);
		if (v != NULL)
			curl_easy_setopt(r->curl, files[i].opt, v);
	}
}

struct cdc_registry *
cdc_registry_new(const char *url, int64_t budget_ms, char *err,
    size_t errlen)
{
	struct cdc_registry *r;
	const char *auth;
	size_t n;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		cdc_err(err, errlen, "invalid schema registry url '%s': must "
		    "start with http:// or https://", url);
		return NULL;
	}
	auth = strchr(url, '/') + 2;
	n = strcspn(auth, "/");
	if (memchr(auth, '@', n) != NULL) {
		/* Not quoted back: the part before '@' is a secret. */
		cdc_err(err, errlen, "credentials in the schema registry url: "
		    "use CDC_SCHEMA_REGISTRY_USER and "
		    "CDC_SCHEMA_REGISTRY_PASSWORD");
		return NULL;
	}
	r = cdc_xcalloc(1, sizeof(*r));
	r->url = cdc_xstrdup(url);
	n = strlen(r->url);
	while (n > 0 && r->url[n - 1] == '/')
		r->url[--n] = '\0';
	r->budget_ms = budget_ms;
	cdc_buf_init(&r->body);
	if (credentials(r, err, errlen) == -1) {
		cdc_registry_free(r);
		return NULL;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r->curl = curl_easy_init();
	if (r->curl == NULL) {
		cdc_err(err, errlen, "cannot make a curl handle");
		cdc_registry_free(r);
		return NULL;
	}
	r->hdr = curl_slist_append(NULL,
	    "Content-Type: application/vnd.schemaregistry.v1+json");
	r->hdr = curl_slist_append(r->hdr,
	    "Accept: application/vnd.schemaregistry.v1+json, "
	    "application/json");
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->hdr);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, 30000L);
	if (r->user != NULL) {
		curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(r->curl, CURLOPT_USERNAME, r->user);
		curl_easy_setopt(r->curl, CURLOPT_PASSWORD, r->password);
	}
	tls_files(r);
	return r;
}

void
cdc_registry_free(struct cdc_registry *r)
{
	if (r == NULL)
		return;
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	curl_slist_free_all(r->hdr);
	free(r->url);
	free(r->user);
	if (r->password != NULL) {
		memset(r->password, 0, strlen(r->password));
		free(r->password);
	}
	cdc_buf_fini(&r->body);
	free(r);
}

uint64_t
cdc_registry_requests(const struct cdc_registry *r)
{
	return r->requests;
}


/* The "message" of an error answer, or the start of its body. */
static void
answer_message(struct cdc_registry *r, char *out, size_t outlen)
{
	json_t *j, *m;

	j = json_loadb((const char *)r->body.p, r->body.len, 0, NULL);
	m = json_object_get(j, "message");
	if (json_is_string(m))
		snprintf(out, outlen, "%s", json_string_value(m));
	else
		snprintf(out, outlen, "%.*s",
		    (int)(r->body.len < 200 ? r->body.len : 200),
		    r->body.p != NULL ? (const char *)r->body.p : "");
	json_decref(j);
}

/* One request (a POST when body is not NULL), retried while the registry
 * cannot be reached or answers 5xx, within the budget. */
static enum cdc_registry_rc
request(struct cdc_registry *r, const char *path, const char *body,
    const char *what, char *err, size_t errlen)
{
	char url[2048], msg[256];
	int64_t deadline = cdc_mono_ms() + r->budget_ms, wait = BACKOFF_MIN_MS;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", r->url, path);
	curl_easy_setopt(r->curl, CURLOPT_URL, url);
	if (body != NULL)
		curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
	else
		curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
	for (;;) {
		r->body.len = 0;
		r->curl_err[0] = '\0';
		r->status = 0;
		r->requests++;
		rc = curl_easy_perform(r->curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE,
			    &r->status);
		if (rc == CURLE_OK && r->status < 500)
			break;
		if (rc != CURLE_OK)
			snprintf(msg, sizeof(msg), "%s", r->curl_err[0] ?
			    r->curl_err : curl_easy_strerror(rc));
		else
			answer_message(r, msg, sizeof(msg));
		if (cdc_stop || cdc_mono_ms() + wait > deadline) {
			cdc_err(err, errlen, "schema registry at '%s' "
			    "unavailable for %s: %s", r->url, what, msg);
			return CDC_REGISTRY_UNAVAILABLE;
		}
		cdc_debug("schema registry: %s: %s; retrying in %" PRId64
			  " ms", what, msg, wait);
		cdc_sleep_ms(wait);
		wait = wait * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait * 2;
	}
	if (r->status == 200)
		return CDC_REGISTRY_OK;
	answer_message(r, msg, sizeof(msg));
	cdc_err(err, errlen, "schema registry refused %s: HTTP %ld: %s", what,
	    r->status, msg);
	if (r->status == 401 || r->status == 403)
		return CDC_REGISTRY_DENIED;
	if (r->status == 404)
		return CDC_REGISTRY_NOT_FOUND;
	return CDC_REGISTRY_REFUSED;
}

/* The answer as a JSON object, or NULL with err set. */
static json_t *
answer_json(struct cdc_registry *r, const char *what, char *err,
    size_t errlen)
{
	json_t *j;
	json_error_t je;

	j = json_loadb((const char *)r->body.p, r->body.len, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		cdc_err(err, errlen, "schema registry answered %s with no "
		    "JSON object: %s", what, je.text);
		return NULL;
	}
	return j;
}

enum cdc_registry_rc
cdc_registry_register(struct cdc_registry *r, const char *subject,
    const char *schema, size_t len, int32_t *id, char *err, size_t errlen)
{
	char path[1024], what[600];
	char *esc, *body;
	json_t *j;
	json_int_t v;
	enum cdc_registry_rc rc;

	esc = curl_easy_escape(r->curl, subject, 0);
	snprintf(path, sizeof(path), "/subjects/%s/versions", esc);
	curl_free(esc);
	snprintf(what, sizeof(what), "subject '%s'", subject);
	j = json_pack("{s:s%}", "schema", schema, len);
	body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	rc = request(r, path, body, what, err, errlen);
	free(body);
	if (rc != CDC_REGISTRY_OK)
		return rc;
	j = answer_json(r, what, err, errlen);
	if (j == NULL)
		return CDC_REGISTRY_REFUSED;
	v = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	if (v <= 0 || v > INT32_MAX) {
		cdc_err(err, errlen, "schema registry answered %s with no "
		    "valid id", what);
		return CDC_REGISTRY_REFUSED;
	}
	*id = (int32_t)v;
	return CDC_REGISTRY_OK;
}

enum cdc_registry_rc
cdc_registry_schema(struct cdc_registry *r, int32_t id, struct cdc_buf *out,
    char *err, size_t errlen)
{
	char path[64], what[64];
	json_t *j, *s;
	enum cdc_registry_rc rc;

	snprintf(path, sizeof(path), "/schemas/ids/%" PRId32, id);
	snprintf(what, sizeof(what), "schema id %" PRId32, id);
	rc = request(r, path, NULL, what, err, errlen);
	if (rc != CDC_REGISTRY_OK)
		return rc;
	j = answer_json(r, what, err, errlen);
	if (j == NULL)
		return CDC_REGISTRY_REFUSED;
	s = json_object_get(j, "schema");
	if (!json_is_string(s)) {
		json_decref(j);
		cdc_err(err, errlen, "schema registry answered %s with no "
		    "schema", what);
		return CDC_REGISTRY_REFUSED;
	}
	out->len = 0;
	cdc_buf_append(out, json_string_value(s), json_string_length(s));
	json_decref(j);
	return CDC_REGISTRY_OK;
}

int
cdc_wire_id(const uint8_t *p, size_t n, int32_t *id)
{
	if (p == NULL || n < CDC_WIRE_HEADER || p[0] != CDC_WIRE_MAGIC)
		return -1;
	*id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 8 | (uint32_t)p[4]);
	return 0;
}

void
cdc_wire_put_header(uint8_t *p, int32_t id)
{
	uint32_t u = (uint32_t)id;

	p[0] = CDC_WIRE_MAGIC;
	p[1] = (uint8_t)(u >> 24);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 8);
	p[4] = (uint8_t)u;
}
