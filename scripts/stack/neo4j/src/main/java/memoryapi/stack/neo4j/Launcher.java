package memoryapi.stack.neo4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * Embedded Neo4j Community DBMS serving Bolt, for the local service stack.
 *
 * <pre>
 * java -cp '.stack/neo4j/lib/*' memoryapi.stack.neo4j.Launcher \
 *      --home .stack/neo4j/data --listen 127.0.0.1:7687 --pagecache-mb 512
 * </pre>
 *
 * <ul>
 *   <li>Bolt only (the embedded DBMS has no HTTP server), on the loopback address given.
 *   <li>Bolt encryption disabled, and authentication disabled: the stack binds to loopback
 *       only and is a development/test service. With auth disabled Neo4j accepts any
 *       credentials, so clients may still send NEO4J_USER/NEO4J_PASSWORD (compose.yaml runs
 *       the image with auth on and the same client settings work against both).
 *   <li>SIGTERM/SIGINT run a JVM shutdown hook that shuts the DBMS down cleanly (checkpoint,
 *       store files closed); the stack waits for the process to exit.
 *   <li>Prints one line "READY bolt://host:port" once the default database is available.
 * </ul>
 */
public final class Launcher {

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Path home = Path.of(".stack/neo4j/data");
        String listen = "127.0.0.1:7687";
        long pageCacheMb = 512;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--home" -> home = Path.of(args[++i]);
                case "--listen" -> listen = args[++i];
                case "--pagecache-mb" -> pageCacheMb = Long.parseLong(args[++i]);
                default -> {
                    System.err.println("unknown argument: " + args[i]);
                    System.exit(2);
                }
            }
        }
        int colon = listen.lastIndexOf(':');
        SocketAddress bolt = new SocketAddress(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)));

        long started = System.nanoTime();
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home.toAbsolutePath())
                // nothing listens beyond the address given
                .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress(bolt.getHostname()))
                .setConfig(GraphDatabaseSettings.default_advertised_address, new SocketAddress(bolt.getHostname()))
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                // bound the transaction logs of a dev/test database
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "100M size")
                // no 256 MB preallocated transaction log per database (system + neo4j)
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(5))
                // a stop would otherwise wait 5 s twice for idle Bolt worker threads
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shutting down the DBMS");
            try {
                dbms.shutdown();
                System.out.println("DBMS stopped");
            } catch (Throwable t) {
                t.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "neo4j-shutdown"));

        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(Duration.ofMinutes(2).toMillis())) {
            System.err.println("default database did not become available");
            System.exit(1);
        }
        System.out.printf("READY bolt://%s:%d (neo4j %s, started in %d ms)%n",
                bolt.getHostname(), bolt.getPort(), neo4jVersion(), (System.nanoTime() - started) / 1_000_000);
        stopped.await();
    }

    private static String neo4jVersion() {
        Package p = DatabaseManagementService.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "5.26" : v;
    }
}
