// A single-node Elasticsearch 7.17 for Vigie's integration tests and
// benchmarks, started from the jars on Maven Central (there is no Docker
// engine and no ES distribution archive on the dev/CI machines). It is run
// by scripts/elasticsearch.sh in Java's single-file source mode
// (`java -cp 'libs/*' Launcher.java ...`), so there is no compile step.
//
// Why a subclass of Node: the distribution loads the HTTP transport
// (Netty 4) from its modules/ folder; here the plugin jar is on the class
// path instead, and only Node's protected constructor accepts plugin
// classes from the class path.
//
// Arguments: HOME HTTP_PORT TRANSPORT_PORT. Every setting is here, so the
// node never reads an elasticsearch.yml. No xpack.* setting may appear:
// without x-pack on the class path they are unknown and refused.

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.transport.Netty4Plugin;

public class Launcher {
    static final class EmbeddedNode extends Node {
        EmbeddedNode(Environment env) {
            super(env, List.of(Netty4Plugin.class), true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: Launcher HOME HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        Path config = home.resolve("config");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("plugins"));
        Files.createDirectories(home.resolve("modules"));
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "vigie-test")
            .put("node.name", "vigie-es")
            // One node that elects itself: no discovery, no quorum, and the
            // bootstrap checks are warnings rather than failures.
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", args[1])
            .put("transport.port", args[2])
            // Test machines fill their disks with caches: the watermarks
            // would make indices read-only half-way through a run.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Small machine (2 cores), light test traffic.
            .put("node.processors", Math.min(2, Runtime.getRuntime().availableProcessors()))
            .put("indices.breaker.total.use_real_memory", false)
            .put("action.destructive_requires_name", false)
            .build();
        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), config, () -> "vigie-es");
        Node node = new EmbeddedNode(env);
        // Elasticsearch's threads are daemon threads: like its own
        // Bootstrap, main must wait, or the JVM exits as soon as it returns.
        // SIGTERM runs the hook, which closes the node (flushing its
        // translog) and then lets main end.
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "vigie-es-shutdown"));
        node.start();
        System.out.println("vigie-es: node started, http 127.0.0.1:" + args[1]);
        stopped.await();
    }
}
