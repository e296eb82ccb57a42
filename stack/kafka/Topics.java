// Kafka topic helper for ./dev, run with the JDK's single-file source launcher against the
// broker's own jars:  java -cp '<lib>/*' stack/kafka/Topics.java <bootstrap> <timeout-s> <cmd> ...
//
//   wait                         until the broker answers describeCluster
//   list                         print topic names and partition counts, one per line
//   ensure name:partitions ...   wait, then create only the topics that are missing (RF 1)
//
// One JVM for the whole set: starting kafka-topics once per topic costs seconds each.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

public class Topics {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Topics <bootstrap> <timeout-s> wait|list|ensure [name:partitions ...]");
            System.exit(2);
        }
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        String cmd = args[2];

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "tenor-dev-topics");

        try (Admin admin = Admin.create(props)) {
            waitReady(admin, bootstrap, deadline);
            switch (cmd) {
                case "wait" -> System.out.println("kafka ready at " + bootstrap);
                case "list" -> {
                    var names = existing(admin);
                    var desc = admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
                    for (String n : names) System.out.println(n + "\t" + desc.get(n).partitions().size());
                }
                case "ensure" -> ensure(admin, List.of(args).subList(3, args.length), deadline);
                default -> {
                    System.err.println("unknown command: " + cmd);
                    System.exit(2);
                }
            }
        }
    }

    static void waitReady(Admin admin, String bootstrap, long deadline) throws InterruptedException {
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                var nodes = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                if (!nodes.isEmpty()) return;
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(500);
        }
        System.err.println("kafka at " + bootstrap + " not ready before timeout"
                + (last == null ? "" : ": " + last));
        System.exit(1);
    }

    static Set<String> existing(Admin admin) throws Exception {
        return new TreeSet<>(admin.listTopics(new ListTopicsOptions().listInternal(false))
                .names().get(10, TimeUnit.SECONDS));
    }

    static void ensure(Admin admin, List<String> specs, long deadline) throws Exception {
        while (true) {
            Set<String> have = existing(admin);
            List<NewTopic> missing = new ArrayList<>();
            for (String spec : specs) {
                String[] p = spec.split(":");
                if (p.length != 2) throw new IllegalArgumentException("bad topic spec: " + spec);
                if (!have.contains(p[0])) missing.add(new NewTopic(p[0], Integer.parseInt(p[1]), (short) 1));
            }
            if (missing.isEmpty()) {
                System.out.println("kafka topics: " + specs.size() + " present, 0 created");
                return;
            }
            CreateTopicsResult res = admin.createTopics(missing);
            int created = 0;
            Exception retry = null;
            for (Map.Entry<String, ?> e : res.values().entrySet()) {
                try {
                    res.values().get(e.getKey()).get(15, TimeUnit.SECONDS);
                    created++;
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) retry = ex;
                }
            }
            if (retry == null) {
                System.out.println("kafka topics: " + (specs.size() - created) + " present, " + created + " created");
                return;
            }
            if (System.nanoTime() > deadline) {
                System.err.println("kafka topic creation failed: " + retry.getCause());
                System.exit(1);
            }
            Thread.sleep(1000);
        }
    }
}
