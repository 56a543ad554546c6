/* The acknowledgement channel: lines, the newest wins, errors, EOF. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ack.h"
#include "check.h"

int
main(void)
{
	struct cdc_ack_reader *r;
	const char *pos = NULL;
	char err[256];
	int64_t seq = 0;
	int fds[2];

	check_file = "test_ack";
	if (pipe(fds) == -1)
		return 1;
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	r = cdc_ack_reader_new(fds[0]);
	CHECK("nothing yet", cdc_ack_reader_poll(r, &seq, &pos, err,
	    sizeof(err)) == 0);
	cdc_ack_send(fds[1], 1, "kafka:t/0@5", 11, NULL, 0);
	cdc_ack_send(fds[1], 2, "kafka:t/0@9 x", 13, NULL, 0);
	CHECK("the newest of two lines", cdc_ack_reader_poll(r, &seq, &pos,
	    err, sizeof(err)) == 1 && seq == 2 &&
	    strcmp(pos, "kafka:t/0@9 x") == 0);
	CHECK("newline in a position refused",
	    cdc_ack_send(fds[1], 3, "a\nb", 3, err, sizeof(err)) == -1);
	(void)!write(fds[1], "ack 3 p3\nack 4 p", 16);
	CHECK("a partial line waits", cdc_ack_reader_poll(r, &seq, &pos, err,
	    sizeof(err)) == 1 && seq == 3 && strcmp(pos, "p3") == 0);
	(void)!write(fds[1], "4\n\n", 3);
	CHECK("the rest of the line, and an empty line",
	    cdc_ack_reader_poll(r, &seq, &pos, err, sizeof(err)) == 1 &&
		seq == 4 && strcmp(pos, "p4") == 0);
	(void)!write(fds[1], "ack 4 p4\n", 9);
	CHECK("a repeat is not news", cdc_ack_reader_poll(r, &seq, &pos, err,
	    sizeof(err)) == 0);
	(void)!write(fds[1], "ack 2 p2\n", 9);
	CHECK("going backwards is an error",
	    cdc_ack_reader_poll(r, &seq, &pos, err, sizeof(err)) == -1 &&
		strstr(err, "out of order") != NULL);
	cdc_ack_reader_free(r);
	close(fds[0]);
	close(fds[1]);

	if (pipe(fds) == -1)
		return 1;
	r = cdc_ack_reader_new(fds[0]);
	(void)!write(fds[1], "nack 1 x\n", 9);
	CHECK("malformed line", cdc_ack_reader_poll(r, &seq, &pos, err,
	    sizeof(err)) == -1 && strstr(err, "malformed") != NULL);
	cdc_ack_reader_free(r);
	close(fds[0]);
	close(fds[1]);

	if (pipe(fds) == -1)
		return 1;
	r = cdc_ack_reader_new(fds[0]);
	close(fds[1]);
	CHECK("end of file", cdc_ack_reader_poll(r, &seq, &pos, err,
	    sizeof(err)) == CDC_ACK_EOF);
	cdc_ack_reader_free(r);
	close(fds[0]);
	return check_done();
}
