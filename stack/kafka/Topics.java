// Kafka topic helper for ./dev, run with the JDK's single-file source launcher against the
// broker's own jars:  java -cp '<lib>/*' stack/kafka/Topics.java <bootstrap> <timeout-s> <cmd> ...
// ./dev passes the topics of services.toml as name:partitions.
//
//   wait                         until the broker answers describeCluster
//   list                         print every topic name and partition count, one per line
//   list name:partitions ...     those topics, wanted vs actual partitions, and how many others
//                                exist; exit 1 when one is missing or differs
//   ensure name:partitions ...   wait, then create only the topics that are missing (RF 1); warn
//                                about existing ones with another partition count
//   delete name ...              delete those topics (missing ones are skipped)
//
// One JVM for the whole set: starting kafka-topics once per topic costs seconds each.
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

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
                    var wanted = specs(List.of(args).subList(3, args.length));
                    var names = existing(admin);
                    if (wanted.isEmpty()) {
                        partitions(admin, names).forEach((n, p) -> System.out.println(n + "\t" + p));
                    } else if (!compare(wanted, partitions(admin, names), true)) {
                        System.exit(1);
                    }
                }
                case "ensure" -> ensure(admin, specs(List.of(args).subList(3, args.length)), deadline);
                case "delete" -> delete(admin, List.of(args).subList(3, args.length));
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

    static Map<String, Integer> specs(List<String> args) {
        Map<String, Integer> specs = new LinkedHashMap<>();
        for (String spec : args) {
            String[] p = spec.split(":");
            if (p.length != 2) throw new IllegalArgumentException("bad topic spec: " + spec);
            specs.put(p[0], Integer.parseInt(p[1]));
        }
        return specs;
    }

    static Map<String, Integer> partitions(Admin admin, Set<String> names) throws Exception {
        Map<String, Integer> counts = new LinkedHashMap<>();
        var desc = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS);
        for (String n : names) counts.put(n, desc.get(n).partitions().size());
        return counts;
    }

    /** Wanted topics against the broker's; prints a table (all) or only the differences. */
    static boolean compare(Map<String, Integer> wanted, Map<String, Integer> have, boolean all) {
        boolean ok = true;
        if (all) System.out.printf("%-28s %10s %7s%n", "topic", "partitions", "wanted");
        for (var w : wanted.entrySet()) {
            Integer got = have.get(w.getKey());
            String note = got == null ? "  MISSING" : got.equals(w.getValue()) ? "" : "  DIFFERS";
            ok &= note.isEmpty();
            if (all || !note.isEmpty()) {
                System.out.printf("%-28s %10s %7d%s%n", w.getKey(), got == null ? "-" : got, w.getValue(), note);
            }
        }
        if (all) {
            long others = have.keySet().stream().filter(n -> !wanted.containsKey(n)).count();
            System.out.println(others + " other topics (tests make test.<run>.* ones): ./dev topics --all");
        }
        return ok;
    }

    /** Deletes the named topics in batches; a topic already gone is not an error. */
    static void delete(Admin admin, List<String> names) throws Exception {
        int deleted = 0;
        for (int from = 0; from < names.size(); from += 500) {
            var batch = names.subList(from, Math.min(names.size(), from + 500));
            var res = admin.deleteTopics(batch);
            for (var future : res.topicNameValues().values()) {
                try {
                    future.get(60, TimeUnit.SECONDS);
                    deleted++;
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof UnknownTopicOrPartitionException)) throw ex;
                }
            }
        }
        System.out.println("kafka topics: " + deleted + " deleted");
    }

    static void ensure(Admin admin, Map<String, Integer> specs, long deadline) throws Exception {
        while (true) {
            Set<String> have = existing(admin);
            List<NewTopic> missing = new ArrayList<>();
            Map<String, Integer> present = new LinkedHashMap<>();
            for (var spec : specs.entrySet()) {
                if (have.contains(spec.getKey())) present.put(spec.getKey(), spec.getValue());
                else missing.add(new NewTopic(spec.getKey(), spec.getValue(), (short) 1));
            }
            if (!compare(present, partitions(admin, present.keySet()), false)) {
                System.out.println("warning: partition counts above differ from services.toml; "
                        + "existing topics are left alone (./dev clean starts afresh)");
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
