/*
 * Debezium's MariaDB connector in its embedded engine, for bench/debezium
 * and t6001: reads the binlog live, writes each change event as one JSON
 * line (JsonConverter, schemas on; a tombstone as {"tombstone": KEY}) to
 * OUT, and stops at the stop row: the event of STOP_TOPIC whose key is
 * {"id": STOP_ID} (any id with "any"). Offsets and schema history go to files, so a second run
 * resumes where the first stopped: prime once (snapshot.mode=no_data),
 * write the workload, then read it as a backlog.
 *
 *   java -cp 'LIB/*:CLASSES' DebeziumRunner PROPERTIES OUT STOP_TOPIC STOP_ID
 *
 * PROPERTIES holds the connector's settings; the password comes from
 * CDC_MYSQL_PASSWORD, never from a file or argv. OUT may be /dev/null.
 * On stderr, one line of figures: events, tombstones, the time and the
 * process CPU at the first event (start-up) and at the stop (steady state).
 */
import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;

import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

public final class DebeziumRunner {
	private static long events, tombstones;
	private static long firstNanos = -1, firstCpu = -1;
	private static volatile boolean stopSeen;
	private static String failure;

	private static long cpuNanos() {
		return ((com.sun.management.OperatingSystemMXBean)
		    ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
	}

	public static void main(String[] args) throws Exception {
		if (args.length != 4) {
			System.err.println("usage: DebeziumRunner PROPERTIES OUT STOP_TOPIC STOP_ID");
			System.exit(64);
		}
		long t0 = ManagementFactory.getRuntimeMXBean().getStartTime();
		Properties props = new Properties();
		try (FileInputStream in = new FileInputStream(args[0])) {
			props.load(in);
		}
		String pw = System.getenv("CDC_MYSQL_PASSWORD");
		if (pw != null)
			props.setProperty("database.password", pw);
		String stopTopic = args[2];
		String stopKey = args[3].equals("any") ? null :
		    "\"payload\":{\"id\":" + args[3] + "}";
		CountDownLatch done = new CountDownLatch(1);
		BufferedWriter out = new BufferedWriter(new OutputStreamWriter(
		    new FileOutputStream(args[1]), StandardCharsets.UTF_8), 1 << 16);

		DebeziumEngine<ChangeEvent<String, String>> engine =
		    DebeziumEngine.create(Json.class).using(props)
			.notifying((List<ChangeEvent<String, String>> batch,
				DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> c) -> {
				/* Past the stop, nothing is committed: a next run
				 * starts right after the stop event. */
				if (stopSeen)
					return;
				for (ChangeEvent<String, String> e : batch) {
					if (firstNanos < 0) {
						firstNanos = System.nanoTime();
						firstCpu = cpuNanos();
					}
					if (stopTopic.equals(e.destination()) &&
					    e.value() != null && (stopKey == null ||
					    e.key().contains(stopKey))) {
						stopSeen = true;
						c.markProcessed(e);
						break;
					}
					try {
						if (e.value() == null) {
							/* A tombstone: its key, marked. */
							tombstones++;
							out.write("{\"tombstone\":" + e.key() + "}\n");
						} else {
							events++;
							out.write(e.value());
							out.write('\n');
						}
					} catch (IOException x) {
						throw new RuntimeException(x);
					}
					c.markProcessed(e);
				}
				c.markBatchFinished();
				if (stopSeen)
					done.countDown();
			})
			.using((boolean ok, String msg, Throwable err) -> {
				if (!ok && !stopSeen)
					failure = msg + (err != null ? ": " + err : "");
				done.countDown();
			})
			.build();
		ExecutorService ex = Executors.newSingleThreadExecutor();
		ex.execute(engine);
		done.await();
		long endNanos = System.nanoTime(), endCpu = cpuNanos();
		if (failure == null) {
			engine.close();
			ex.shutdown();
			ex.awaitTermination(60, TimeUnit.SECONDS);
		}
		out.close();
		if (failure != null) {
			/* The engine has stopped itself; its threads may not. */
			System.err.println("DebeziumRunner: error: " + failure);
			System.exit(1);
		}
		double startup = firstNanos < 0 ? 0 :
		    (firstNanos - System.nanoTime()) / 1e9 +
		    (System.currentTimeMillis() - t0) / 1e3;
		System.err.printf("events=%d tombstones=%d first_event_s=%.3f "
		    + "startup_cpu_s=%.3f steady_s=%.3f steady_cpu_s=%.3f%n",
		    events, tombstones, startup, firstCpu / 1e9,
		    (endNanos - firstNanos) / 1e9, (endCpu - firstCpu) / 1e9);
		System.exit(0);
	}
}
