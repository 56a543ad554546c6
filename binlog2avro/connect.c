/* The connection to the server that the live, snapshot and schema lookup
 * sources share: settings from struct b2a_live, timeouts and TLS. */
#include <mysql.h>

#include "live.h"
#include "log.h"

MYSQL *
b2a_live_connect(const struct b2a_live *l, unsigned int timeout, char *err,
    size_t errlen)
{
	MYSQL *m = mysql_init(NULL);
	my_bool on = 1;

	if (m == NULL) {
		cdc_err(err, errlen, "out of memory for a MySQL handle");
		return NULL;
	}
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	if (l->tls) {
		mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
		if (l->tls_ca != NULL)
			mysql_optionsv(m, MYSQL_OPT_SSL_CA, l->tls_ca);
		if (l->tls_verify)
			mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
	}
	if (mysql_real_connect(m, l->host, l->user, l->password, NULL,
		(unsigned)l->port, l->socket, 0) == NULL) {
		cdc_err(err, errlen, "cannot connect to %s:%d as '%s': %s",
		    l->host != NULL ? l->host : "localhost", l->port, l->user,
		    mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}
