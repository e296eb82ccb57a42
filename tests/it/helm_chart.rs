//! The Helm chart in `deploy/helm/tenor`, checked by rendering it with the helm binary `./dev`
//! builds (`TENOR_HELM_BIN`, exported by `./dev env`) and reading the manifests: no cluster is
//! needed. Against `supergraph.yaml`, `services.toml`, `docker-compose.yml`, the Dockerfile and
//! the services' own code it checks that every subgraph and the router has a Deployment running
//! its binary and a Service at its port, that the router is pointed at those Services, that every
//! container is probed on the paths the services serve and requests resources, that replicated
//! services get an autoscaler and a disruption budget (and the one with a volume does not), that
//! only the router reaches the subgraphs, that secrets are referenced and never rendered, that
//! nothing runs as root, that each service gets every setting compose gives it, and that event
//! consumers are static group members (under their pod's name) only when asked.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;
use serde_yaml::Value;
use tenor_platform::manifest::{self, Kind, Store};

fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

const CHART: &str = "deploy/helm/tenor";
const RELEASE: &str = "tenor";

// --- Rendering ---------------------------------------------------------------------------------

/// `helm template` of the chart with `--set` arguments; `Err` carries helm's message.
fn try_render(sets: &[&str]) -> Result<Rendered, String> {
    let helm = std::env::var("TENOR_HELM_BIN").unwrap_or_else(|_| {
        panic!("TENOR_HELM_BIN is not set: eval \"$(./dev env)\" (./dev infra builds helm)")
    });
    let mut command = Command::new(&helm);
    command
        .args(["template", RELEASE])
        .arg(repo_file(CHART))
        .args(["--namespace", "lending"]);
    for set in sets {
        command.args(["--set", set]);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {helm}: {e} (./dev helm-check builds it)"));
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8(output.stdout).expect("helm prints UTF-8");
    let docs = serde_yaml::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).expect("helm renders valid YAML"))
        .filter(|doc| !doc.is_null())
        .collect();
    Ok(Rendered { docs })
}

fn render(sets: &[&str]) -> Rendered {
    try_render(sets).unwrap_or_else(|e| panic!("helm template {sets:?} failed: {e}"))
}

/// The chart with its default values, as `helm install` with no overrides would apply it.
fn defaults() -> Rendered {
    render(&[])
}

/// Every optional piece switched on: the public Ingress (kyc's upload links) and tracing.
fn everything_on() -> Rendered {
    render(&[
        "ingress.enabled=true",
        "tracing.otlpTracesEndpoint=http://collector.observability:4318/v1/traces",
    ])
}

struct Rendered {
    docs: Vec<Value>,
}

impl Rendered {
    /// The documents of one kind (the kind copied, so results borrow only the rendering).
    fn of_kind(&self, kind: &str) -> impl Iterator<Item = &Value> + use<'_> {
        let kind = kind.to_owned();
        self.docs
            .iter()
            .filter(move |d| d["kind"].as_str() == Some(kind.as_str()))
    }

    fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.of_kind(kind)
            .find(|d| d["metadata"]["name"].as_str() == Some(name))
    }

    fn get(&self, kind: &str, name: &str) -> &Value {
        self.find(kind, name)
            .unwrap_or_else(|| panic!("no {kind} {name} rendered"))
    }

    /// The Deployment of a service of services.toml, by the chart's naming.
    fn deployment(&self, service: &str) -> &Value {
        self.get("Deployment", &object_name(service))
    }

    /// The one container of a service's Deployment.
    fn container(&self, service: &str) -> &Value {
        let containers = self.deployment(service)["spec"]["template"]["spec"]["containers"]
            .as_sequence()
            .expect("containers");
        assert_eq!(containers.len(), 1, "{service}: one container");
        &containers[0]
    }

    /// The Deployments whose pods a label selector picks, by service name.
    fn selected(&self, selector: &Value) -> BTreeSet<String> {
        self.of_kind("Deployment")
            .filter(|d| selects(selector, pod_labels(d)))
            .map(|d| component(d).to_owned())
            .collect()
    }
}

/// `tenor-<service>`: the chart names each service's objects after the release and the service.
fn object_name(service: &str) -> String {
    format!("{RELEASE}-{service}")
}

fn pod_labels(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["metadata"]["labels"]
}

fn component(deployment: &Value) -> &str {
    pod_labels(deployment)["app.kubernetes.io/component"]
        .as_str()
        .expect("a component label")
}

/// Whether a `LabelSelector` (`matchLabels` / `matchExpressions`) picks pods with `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    let label = |key: &Value| labels.get(key).and_then(Value::as_str);
    let labels_match = selector["matchLabels"]
        .as_mapping()
        .into_iter()
        .flatten()
        .all(|(key, value)| label(key) == value.as_str());
    let mut expressions = selector["matchExpressions"]
        .as_sequence()
        .into_iter()
        .flatten();
    let expressions_match = expressions.all(|expr| {
        let values: Vec<&str> = expr["values"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let actual = label(&expr["key"]);
        match expr["operator"].as_str() {
            Some("In") => actual.is_some_and(|a| values.contains(&a)),
            Some("NotIn") => actual.is_none_or(|a| !values.contains(&a)),
            Some("Exists") => actual.is_some(),
            Some("DoesNotExist") => actual.is_none(),
            other => panic!("unknown selector operator {other:?}"),
        }
    });
    labels_match && expressions_match
}

/// A Service's `selector` (a plain label map) as a `LabelSelector`.
fn service_selector(service: &Value) -> Value {
    let mut selector = serde_yaml::Mapping::new();
    selector.insert("matchLabels".into(), service["spec"]["selector"].clone());
    Value::Mapping(selector)
}

/// A container's environment: every entry (`value` or `valueFrom`) with its name, in order and
/// duplicates included (Kubernetes would silently take the last of two).
fn env(container: &Value) -> Vec<(String, &Value)> {
    container["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|e| (e["name"].as_str().expect("env name").to_owned(), e))
        .collect()
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_sequence()?
        .iter()
        .find(|e| e["name"].as_str() == Some(name))
        .and_then(|e| e["value"].as_str())
}

/// `http://host:port/path` → (host, port, path).
fn split_url(url: &str) -> (&str, u16, &str) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url}: not http://"));
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = authority
        .split_once(':')
        .unwrap_or_else(|| panic!("{url}: no port"));
    (host, port.parse().expect("a port number"), path)
}

/// `supergraph.yaml`'s subgraphs and their routing URLs.
fn supergraph_subgraphs() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_file("supergraph.yaml")).unwrap();
    let config: Value = serde_yaml::from_str(&text).unwrap();
    config["subgraphs"]
        .as_mapping()
        .expect("subgraphs")
        .iter()
        .map(|(name, sub)| {
            let url = sub["routing_url"].as_str().expect("routing_url");
            (name.as_str().unwrap().to_owned(), url.to_owned())
        })
        .collect()
}

/// The router and every subgraph `supergraph.yaml` routes to: what the chart must deploy.
fn deployed_services() -> Vec<&'static manifest::Service> {
    let mut services = vec![manifest::router()];
    services.extend(
        supergraph_subgraphs()
            .iter()
            .map(|(name, _)| manifest::service(name)),
    );
    assert!(services.len() >= 8, "router and seven subgraphs");
    services
}

// --- Deployments and Services ------------------------------------------------------------------

#[test]
fn every_subgraph_and_the_router_has_a_deployment_running_its_binary_and_a_service() {
    let chart = defaults();
    let mut images = BTreeSet::new();
    for spec in deployed_services() {
        let deployment = chart.deployment(&spec.name);
        assert_eq!(component(deployment), spec.name);
        let selector = &deployment["spec"]["selector"];
        assert!(
            selects(selector, pod_labels(deployment)),
            "{}: the Deployment's selector does not pick its own pods",
            spec.name
        );
        assert_eq!(
            chart.selected(selector),
            BTreeSet::from([spec.name.clone()]),
            "{}: the Deployment's selector picks other services' pods",
            spec.name
        );
        let container = chart.container(&spec.name);
        let command: Vec<&str> = container["command"]
            .as_sequence()
            .expect("a command")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(command, [format!("tenor-{}", spec.name)], "{}", spec.name);
        images.insert(container["image"].as_str().expect("image").to_owned());
        let port = &container["ports"][0];
        assert_eq!(
            port["containerPort"].as_u64(),
            Some(u64::from(spec.port)),
            "{}: container port (services.toml)",
            spec.name
        );
        assert_eq!(
            env_value(container, "PORT"),
            Some(spec.port.to_string().as_str()),
            "{}: PORT",
            spec.name
        );
        assert_eq!(
            env_value(container, "HOST"),
            Some("0.0.0.0"),
            "{}: the binaries listen on loopback unless HOST says otherwise",
            spec.name
        );

        let service = chart.get("Service", &object_name(&spec.name));
        assert_eq!(
            chart.selected(&service_selector(service)),
            BTreeSet::from([spec.name.clone()]),
            "{}: the Service must select exactly its Deployment's pods",
            spec.name
        );
        let service_port = &service["spec"]["ports"][0];
        assert_eq!(
            service_port["port"].as_u64(),
            Some(u64::from(spec.port)),
            "{}: Service port",
            spec.name
        );
        assert_eq!(
            service_port["targetPort"], port["name"],
            "{}: the Service targets the container's named port",
            spec.name
        );
    }
    assert_eq!(images.len(), 1, "one image for every service: {images:?}");
    assert_eq!(
        chart.of_kind("Deployment").count(),
        deployed_services().len(),
        "a Deployment for a service that is neither routed nor the router"
    );
}

#[test]
fn the_router_reaches_every_subgraph_through_its_service_and_everyone_finds_auths_keys() {
    let chart = defaults();
    let router = chart.container(&manifest::router().name);
    let routed = supergraph_subgraphs();
    for (name, routing_url) in &routed {
        let var = format!("ROUTER_SUBGRAPH_{}_URL", name.to_uppercase());
        let url = env_value(router, &var).unwrap_or_else(|| panic!("router: no {var}"));
        let (host, port, path) = split_url(url);
        let service = chart
            .find("Service", host)
            .unwrap_or_else(|| panic!("router: {var}={url} names no rendered Service"));
        assert_eq!(
            chart.selected(&service_selector(service)),
            BTreeSet::from([name.clone()]),
            "router: {var}={url} is not the Service of {name}"
        );
        assert_eq!(
            service["spec"]["ports"][0]["port"].as_u64(),
            Some(u64::from(port)),
            "router: {var}={url} is not the Service's port"
        );
        assert_eq!(path, split_url(routing_url).2, "router: {var}={url}");
    }
    let subgraph_vars = env(router)
        .iter()
        .filter(|(var, _)| var.starts_with("ROUTER_SUBGRAPH_"))
        .count();
    assert_eq!(subgraph_vars, routed.len(), "one URL per routed subgraph");

    let auth = chart.get("Service", &object_name("auth"));
    let auth_port = auth["spec"]["ports"][0]["port"].as_u64().unwrap();
    for spec in deployed_services() {
        let container = chart.container(&spec.name);
        let Some(url) = env_value(container, "AUTH_JWKS_URL") else {
            assert_eq!(spec.name, "auth", "{}: no AUTH_JWKS_URL", spec.name);
            continue;
        };
        let (host, port, path) = split_url(url);
        assert_eq!(
            (host, u64::from(port), path),
            (
                object_name("auth").as_str(),
                auth_port,
                "/.well-known/jwks.json"
            ),
            "{}: AUTH_JWKS_URL",
            spec.name
        );
    }
}

// --- Probes and resources ----------------------------------------------------------------------

#[test]
fn every_container_is_probed_on_the_paths_the_services_serve_and_requests_resources() {
    // The subgraphs' paths, as the platform crate routes them.
    let ops = std::fs::read_to_string(repo_file("crates/platform/src/http.rs")).unwrap();
    for path in ["/health", "/ready"] {
        assert!(
            ops.contains(&format!(".route(\"{path}\"")),
            "crates/platform/src/http.rs no longer serves {path}"
        );
    }
    let chart = defaults();
    for spec in deployed_services() {
        let container = chart.container(&spec.name);
        // hive-router answers /readiness once the supergraph is loaded; our runner, /ready.
        let ready = match spec.kind {
            Kind::Router => "/readiness",
            Kind::Subgraph => "/ready",
        };
        for (probe, path) in [
            ("startupProbe", "/health"),
            ("livenessProbe", "/health"),
            ("readinessProbe", ready),
        ] {
            let get = &container[probe]["httpGet"];
            assert_eq!(get["path"].as_str(), Some(path), "{}: {probe}", spec.name);
            let port = &get["port"];
            let probes_the_service = port.as_u64() == Some(u64::from(spec.port))
                || container["ports"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .any(|p| {
                        p["name"] == *port
                            && p["containerPort"].as_u64() == Some(u64::from(spec.port))
                    });
            assert!(
                probes_the_service,
                "{}: {probe} is not on port {}",
                spec.name, spec.port
            );
        }
        let resources = &container["resources"];
        for resource in ["cpu", "memory"] {
            assert!(
                !resources["requests"][resource].is_null(),
                "{}: no {resource} request",
                spec.name
            );
        }
        assert!(
            !resources["limits"]["memory"].is_null(),
            "{}: no memory limit (a leak would take the node's memory)",
            spec.name
        );
    }
}

// --- Autoscaling and disruption budgets ---------------------------------------------------------

/// Services whose work arrives from Kafka: beyond a topic's partitions more replicas add nothing.
const KAFKA_DRIVEN: &[&str] = &["credit", "risk", "notification"];

#[test]
fn the_router_and_the_stateless_subgraphs_autoscale_and_have_a_disruption_budget() {
    let chart = defaults();
    let partitions = manifest::topics()
        .iter()
        .filter(|t| !t.name.ends_with(".dlq"))
        .map(|t| t.partitions)
        .min()
        .expect("topics");
    // With the default s3:// object store every service keeps its state in its stores.
    for spec in deployed_services() {
        let name = object_name(&spec.name);
        let hpa = chart
            .find("HorizontalPodAutoscaler", &name)
            .unwrap_or_else(|| panic!("{}: no HorizontalPodAutoscaler", spec.name));
        let target = &hpa["spec"]["scaleTargetRef"];
        assert_eq!(
            (target["kind"].as_str(), target["name"].as_str()),
            (Some("Deployment"), Some(name.as_str())),
            "{}: the HPA scales another object",
            spec.name
        );
        let min = hpa["spec"]["minReplicas"].as_u64().expect("minReplicas");
        let max = hpa["spec"]["maxReplicas"].as_u64().expect("maxReplicas");
        assert!(
            min >= 2 && max >= min,
            "{}: {min}..{max} replicas (two at least, so one can be lost)",
            spec.name
        );
        assert!(
            !hpa["spec"]["metrics"].as_sequence().unwrap().is_empty(),
            "{}: the HPA scales on nothing",
            spec.name
        );
        if KAFKA_DRIVEN.contains(&spec.name.as_str()) {
            assert!(
                max <= u64::try_from(partitions).unwrap(),
                "{}: {max} replicas but topics have {partitions} partitions",
                spec.name
            );
        }
        assert!(
            chart.deployment(&spec.name)["spec"]["replicas"].is_null(),
            "{}: a fixed replica count fights the HPA",
            spec.name
        );

        let pdb = chart
            .find("PodDisruptionBudget", &name)
            .unwrap_or_else(|| panic!("{}: no PodDisruptionBudget", spec.name));
        assert_eq!(
            chart.selected(&pdb["spec"]["selector"]),
            BTreeSet::from([spec.name.clone()]),
            "{}: the PDB guards other pods",
            spec.name
        );
        let max_unavailable = pdb["spec"]["maxUnavailable"].as_u64();
        let min_available = pdb["spec"]["minAvailable"].as_u64();
        assert!(
            max_unavailable == Some(1) || min_available.is_some_and(|m| m >= 1 && m < min),
            "{}: the PDB must keep pods up and still let a node drain",
            spec.name
        );
    }
}

#[test]
fn kyc_with_files_on_a_volume_runs_one_replica_without_autoscaling() {
    let path = "/var/lib/tenor/kyc-objects";
    let store = format!("services.kyc.objectStore=file://{path}");
    let refused = try_render(&[store.as_str()]).err().unwrap_or_default();
    assert!(
        refused.contains("persistence"),
        "a file:// store without a volume must be refused: {refused}"
    );
    let chart = render(&[store.as_str(), "services.kyc.persistence.enabled=true"]);
    let kyc = chart.deployment("kyc");
    assert_eq!(kyc["spec"]["replicas"].as_u64(), Some(1));
    assert_eq!(kyc["spec"]["strategy"]["type"].as_str(), Some("Recreate"));
    let name = object_name("kyc");
    assert!(chart.find("HorizontalPodAutoscaler", &name).is_none());
    assert!(chart.find("PodDisruptionBudget", &name).is_none());
    let claim = chart.get("PersistentVolumeClaim", &name);
    let pod = &kyc["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"])
        .expect("the claim is a volume of the pod");
    let mounted = chart.container("kyc")["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .any(|m| m["name"] == volume["name"] && m["mountPath"].as_str() == Some(path));
    assert!(
        mounted,
        "the volume is mounted where KYC_OBJECT_STORE_URL points"
    );
    // The others are unaffected.
    assert!(
        chart
            .find("HorizontalPodAutoscaler", &object_name("loan"))
            .is_some()
    );
}

// --- Network policy ----------------------------------------------------------------------------

/// The peers a pod's NetworkPolicies admit, each with the ports it may reach. An absent `from`
/// admits everyone (`None`).
fn admitted<'a>(chart: &'a Rendered, service: &str) -> Vec<(Option<&'a Value>, Vec<u64>)> {
    let deployment = chart.deployment(service);
    let policies: Vec<&Value> = chart
        .of_kind("NetworkPolicy")
        .filter(|p| selects(&p["spec"]["podSelector"], pod_labels(deployment)))
        .collect();
    assert!(
        !policies.is_empty(),
        "{service}: no NetworkPolicy selects it"
    );
    let mut rules = Vec::new();
    for policy in policies {
        let types: Vec<&str> = policy["spec"]["policyTypes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            types.contains(&"Ingress"),
            "{service}: not an ingress policy"
        );
        for rule in policy["spec"]["ingress"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let ports: Vec<u64> = rule["ports"]
                .as_sequence()
                .into_iter()
                .flatten()
                .map(|p| p["port"].as_u64().expect("numeric ports"))
                .collect();
            match rule["from"].as_sequence() {
                Some(peers) if !peers.is_empty() => {
                    rules.extend(peers.iter().map(|peer| (Some(peer), ports.clone())));
                }
                _ => rules.push((None, ports)),
            }
        }
    }
    rules
}

/// The Tenor services a peer admits; panics on a peer that could be anything else.
fn tenor_pods(chart: &Rendered, service: &str, peer: &Value) -> BTreeSet<String> {
    assert!(
        peer["namespaceSelector"].is_null() && peer["ipBlock"].is_null(),
        "{service}: admits {peer:?}, not only pods of this release"
    );
    let selector = &peer["podSelector"];
    for key in ["app.kubernetes.io/name", "app.kubernetes.io/instance"] {
        assert!(
            !selector["matchLabels"][key].is_null(),
            "{service}: a peer that does not pin {key} may be any pod: {peer:?}"
        );
    }
    let pods = chart.selected(selector);
    assert!(
        !pods.is_empty(),
        "{service}: a peer selecting no Tenor pod: {peer:?}"
    );
    pods
}

#[test]
fn only_the_router_reaches_the_subgraphs() {
    let chart = defaults();
    let router = manifest::router();
    let subgraphs: BTreeSet<String> = manifest::subgraphs().map(|s| s.name.clone()).collect();
    for spec in deployed_services() {
        let rules = admitted(&chart, &spec.name);
        if spec.kind == Kind::Router {
            assert!(
                rules
                    .iter()
                    .any(|(peer, ports)| peer.is_none() && ports == &[u64::from(router.port)]),
                "the router's port is open to everyone: {rules:?}"
            );
            continue;
        }
        let mut from_router = false;
        for (peer, ports) in &rules {
            assert_eq!(
                ports,
                &[u64::from(spec.port)],
                "{}: opens other ports than its own",
                spec.name
            );
            let peer = peer.unwrap_or_else(|| panic!("{}: admits everyone", spec.name));
            let pods = tenor_pods(&chart, &spec.name, peer);
            from_router |= pods.contains(&router.name);
            // auth's JWKS is fetched by every subgraph verifying tokens; nothing else calls one.
            let allowed = if spec.name == "auth" {
                let mut allowed = subgraphs.clone();
                allowed.insert(router.name.clone());
                allowed
            } else {
                BTreeSet::from([router.name.clone()])
            };
            assert!(
                pods.is_subset(&allowed),
                "{}: admits {pods:?}, only {allowed:?} may call it",
                spec.name
            );
        }
        assert!(from_router, "{}: the router cannot reach it", spec.name);
    }
}

#[test]
fn with_the_ingress_everything_public_goes_through_the_router_kyc_links_included() {
    let chart = everything_on();
    let ingress = chart.of_kind("Ingress").next().expect("an Ingress");
    let router = object_name(&manifest::router().name);
    let mut public = Vec::new();
    for rule in ingress["spec"]["rules"].as_sequence().unwrap() {
        for path in rule["http"]["paths"].as_sequence().unwrap() {
            let backend = path["backend"]["service"]["name"].as_str().unwrap();
            assert_eq!(backend, router, "the Ingress exposes {path:?}");
            public.push(path["path"].as_str().unwrap().to_owned());
        }
    }
    // The router's public paths, not its /metrics (whose page tells the internal services'
    // names and addresses) nor its probes.
    assert_eq!(
        public,
        ["/graphql", "/graphiql", "/kyc"],
        "the Ingress's paths"
    );
    // KYC's signed links are on the public host, and the router passes them on to kyc.
    let public = env_value(chart.container("kyc"), "KYC_PUBLIC_URL").expect("KYC_PUBLIC_URL");
    let host = ingress["spec"]["rules"][0]["host"].as_str().unwrap();
    assert!(
        public.trim_end_matches('/').ends_with(host),
        "KYC_PUBLIC_URL={public} is not the Ingress host {host}"
    );
    let links = env_value(chart.container("router"), "ROUTER_KYC_LINKS_URL")
        .expect("router: ROUTER_KYC_LINKS_URL");
    let (host, port, _) = split_url(links);
    assert_eq!(
        (host, port),
        (object_name("kyc").as_str(), manifest::service("kyc").port),
        "router: ROUTER_KYC_LINKS_URL={links} is not kyc's Service"
    );
    for spec in manifest::subgraphs() {
        let outside: Vec<_> = admitted(&chart, &spec.name)
            .into_iter()
            .filter(|(peer, _)| {
                peer.is_none_or(|p| !p["namespaceSelector"].is_null() || !p["ipBlock"].is_null())
            })
            .collect();
        assert!(outside.is_empty(), "{}: admits {outside:?}", spec.name);
    }
}

// --- Secrets and security context ---------------------------------------------------------------

/// Settings whose values are, or carry, credentials (URLs of the stores carry passwords).
fn secret_like(var: &str) -> bool {
    ["_KEY", "_KEYS", "_DATABASE_URL", "_SMTP_URL"]
        .iter()
        .any(|s| var.ends_with(s))
        || ["SECRET", "PASSWORD", "TOKEN"]
            .iter()
            .any(|s| var.contains(s))
        || ["MONGODB_URL", "REDIS_URL", "AWS_ACCESS_KEY_ID"].contains(&var)
}

/// Names that look like secrets but hold none: the active key's id, and the paths of the key
/// files mounted from a Secret (checked below).
const NOT_SECRETS: &[&str] = &["AUTH_ACTIVE_SIGNING_KEY", "AUTH_SIGNING_KEYS"];

#[test]
fn secrets_are_referenced_from_existing_secrets_never_rendered() {
    for chart in [defaults(), everything_on()] {
        assert_eq!(
            chart.of_kind("Secret").count(),
            0,
            "the chart renders a Secret"
        );
        let mut referenced = 0;
        for spec in deployed_services() {
            let container = chart.container(&spec.name);
            for (var, entry) in env(container) {
                if !secret_like(&var) || NOT_SECRETS.contains(&var.as_str()) {
                    continue;
                }
                let reference = &entry["valueFrom"]["secretKeyRef"];
                assert!(
                    entry["value"].is_null()
                        && reference["name"].as_str().is_some_and(|n| !n.is_empty())
                        && reference["key"].as_str().is_some_and(|k| !k.is_empty()),
                    "{}: {var} must come from an existing Secret (secretKeyRef): {entry:?}",
                    spec.name
                );
                referenced += 1;
            }
        }
        assert!(referenced >= 12, "{referenced} secret references");

        // auth's signing keys: files of a Secret volume, named by AUTH_SIGNING_KEYS.
        let auth = chart.container("auth");
        let pod = &chart.deployment("auth")["spec"]["template"]["spec"];
        let keys = env_value(auth, "AUTH_SIGNING_KEYS").expect("AUTH_SIGNING_KEYS");
        let mut ids = Vec::new();
        for entry in keys.split(',') {
            let (id, path) = entry.split_once('=').expect("kid=path");
            ids.push(id);
            let from_secret = auth["volumeMounts"]
                .as_sequence()
                .unwrap()
                .iter()
                .filter(|m| path.starts_with(&format!("{}/", m["mountPath"].as_str().unwrap())))
                .any(|m| {
                    pod["volumes"].as_sequence().unwrap().iter().any(|v| {
                        v["name"] == m["name"] && v["secret"]["secretName"].as_str().is_some()
                    })
                });
            assert!(
                from_secret,
                "AUTH_SIGNING_KEYS: {path} is no file of a Secret volume"
            );
        }
        let active = env_value(auth, "AUTH_ACTIVE_SIGNING_KEY").expect("AUTH_ACTIVE_SIGNING_KEY");
        assert!(
            ids.contains(&active),
            "the active key {active} is not in {ids:?}"
        );
    }
}

#[test]
fn no_container_runs_as_root_or_can_write_its_image() {
    let dockerfile = std::fs::read_to_string(repo_file("Dockerfile")).unwrap();
    let image_user: u64 = dockerfile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .next_back()
        .and_then(|u| u.split(':').next())
        .and_then(|u| u.parse().ok())
        .expect("the Dockerfile's numeric USER");
    let chart = defaults();
    for spec in deployed_services() {
        let pod = &chart.deployment(&spec.name)["spec"]["template"]["spec"];
        let container = chart.container(&spec.name);
        let setting = |key: &str| {
            let own = &container["securityContext"][key];
            if own.is_null() {
                pod["securityContext"][key].clone()
            } else {
                own.clone()
            }
        };
        assert_eq!(
            setting("runAsNonRoot").as_bool(),
            Some(true),
            "{}",
            spec.name
        );
        let user = setting("runAsUser").as_u64();
        assert_eq!(
            user,
            Some(image_user),
            "{}: runs as the image's user",
            spec.name
        );
        let security = &container["securityContext"];
        assert_eq!(
            security["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{}",
            spec.name
        );
        assert_eq!(
            security["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{}",
            spec.name
        );
        let dropped: Vec<&str> = security["capabilities"]["drop"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(dropped, ["ALL"], "{}: capabilities", spec.name);
        assert_eq!(
            pod["automountServiceAccountToken"].as_bool(),
            Some(false),
            "{}: no service calls the Kubernetes API",
            spec.name
        );
    }
}

// --- Settings ----------------------------------------------------------------------------------

/// The compose file with its anchors and `<<` merge keys applied.
fn compose() -> Value {
    let text = std::fs::read_to_string(repo_file("docker-compose.yml")).unwrap();
    let mut value: Value = serde_yaml::from_str(&text).unwrap();
    value.apply_merge().expect("merge keys apply");
    value
}

fn compose_env_names(service: &Value) -> BTreeSet<String> {
    match &service["environment"] {
        Value::Mapping(map) => map.keys().map(|k| k.as_str().unwrap().to_owned()).collect(),
        Value::Sequence(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|i| i.split('=').next().unwrap().to_owned())
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// What hive-router (or `tenor-router serve`) reads from the environment itself, not through a
/// `from_env` placeholder of router.config.yaml.
const ROUTER_OWN_VARIABLES: &[&str] = &[
    "HOST",
    "PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SUPERGRAPH_FILE_PATH",
    "ROUTER_CONFIG_FILE_PATH",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "TELEMETRY_TRACING_SAMPLING_RATE",
];

/// Settings compose gives a service that the service ignores: compose hands every subgraph one
/// shared block, and auth verifies its own tokens from its key ring, never through a JWKS URL.
const COMPOSE_ONLY: &[(&str, &str)] = &[("auth", "AUTH_JWKS_URL")];

#[test]
fn every_service_gets_each_setting_compose_gives_it_and_nothing_it_does_not_read() {
    let chart = everything_on();
    let compose = compose();
    let documented = std::fs::read_to_string(repo_file(".env.example")).unwrap()
        + &std::fs::read_to_string(repo_file("README.md")).unwrap();
    let router_config = std::fs::read_to_string(repo_file("router/router.config.yaml")).unwrap();
    for spec in deployed_services() {
        let container = chart.container(&spec.name);
        let entries = env(container);
        let set: BTreeSet<String> = entries.iter().map(|(var, _)| var.clone()).collect();
        assert_eq!(
            set.len(),
            entries.len(),
            "{}: a variable set twice (the last wins)",
            spec.name
        );
        let wanted = compose_env_names(&compose["services"][spec.name.as_str()]);
        assert!(
            !wanted.is_empty(),
            "{}: compose gives no settings",
            spec.name
        );
        let missing: Vec<_> = wanted
            .difference(&set)
            .filter(|var| !COMPOSE_ONLY.contains(&(spec.name.as_str(), var.as_str())))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: docker-compose.yml sets {missing:?}, the chart does not",
            spec.name
        );
        match spec.store {
            Store::Postgres => {
                assert!(set.contains(&format!("{}_DATABASE_URL", spec.name.to_uppercase())))
            }
            Store::Mongodb => assert!(set.contains("MONGODB_URL")),
            Store::None => {}
        }
        // And nothing a service would not read: documented settings, or the router's own.
        for var in &set {
            let read = match spec.kind {
                Kind::Router => {
                    ROUTER_OWN_VARIABLES.contains(&var.as_str())
                        || router_config.contains(&format!("from_env: {var}"))
                }
                Kind::Subgraph => {
                    documented.contains(var.as_str())
                        || (var.starts_with("AWS_") && documented.contains("`AWS_*`"))
                }
            };
            assert!(
                read,
                "{}: the chart sets {var}, which nothing reads",
                spec.name
            );
        }
    }
}

#[test]
fn event_consumers_are_static_members_under_their_pod_name_only_when_asked() {
    // Default: dynamic membership, as a Deployment's pods are renamed by every rollout.
    let chart = defaults();
    for spec in deployed_services() {
        let container = chart.container(&spec.name);
        assert!(
            !env(container)
                .iter()
                .any(|(var, _)| var == "CONSUMER_INSTANCE_ID"),
            "{}: a static member by default",
            spec.name
        );
    }
    // Asked for: every subgraph (each runs event consumers) names its members after its pod, a
    // name unique among the replicas; a literal value would make the replicas fence each other.
    let chart = render(&["kafka.staticMembership=true"]);
    for spec in deployed_services() {
        let container = chart.container(&spec.name);
        let instance = env(container)
            .into_iter()
            .find(|(var, _)| var == "CONSUMER_INSTANCE_ID")
            .map(|(_, entry)| entry);
        match spec.kind {
            Kind::Subgraph => {
                let entry = instance.unwrap_or_else(|| panic!("{}: no instance id", spec.name));
                assert_eq!(entry.get("value"), None, "{}: {entry:?}", spec.name);
                assert_eq!(
                    entry["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
                    Some("metadata.name"),
                    "{}",
                    spec.name
                );
            }
            Kind::Router => assert!(instance.is_none(), "the router runs no group consumer"),
        }
    }
}

/// Alerts are opt-in (the PrometheusRule kind exists only with the Prometheus Operator), and
/// each watches a metric the code really exports under that name: a renamed metric would leave
/// an alert that can never fire.
#[test]
fn alerts_are_opt_in_and_watch_metrics_that_exist() {
    assert_eq!(defaults().of_kind("PrometheusRule").count(), 0);
    let rendered = render(&["alerts.enabled=true", "alerts.labels.release=prometheus"]);
    let rules: Vec<&Value> = rendered.of_kind("PrometheusRule").collect();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["metadata"]["labels"]["release"], "prometheus");
    let exprs: Vec<String> = rules[0]["spec"]["groups"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|group| group["rules"].as_sequence().unwrap().iter())
        .map(|rule| rule["expr"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(exprs.len(), 5, "{exprs:#?}");
    let exported = [
        (tenor_loan::service::money_movement::STALLED, None),
        (
            "tenor_credit_pending_decision_oldest_seconds",
            Some("subgraphs/credit/src/service/sweeper.rs"),
        ),
        (
            "tenor_credit_review_queue_oldest_seconds",
            Some("subgraphs/credit/src/service/sweeper.rs"),
        ),
        (
            "events_dead_lettered_total",
            Some("crates/events/src/consumer.rs"),
        ),
        (
            "notification_failed_total",
            Some("subgraphs/notification/src/service/delivery.rs"),
        ),
        (
            "notification_sent_total",
            Some("subgraphs/notification/src/service/delivery.rs"),
        ),
    ];
    for (metric, source) in exported {
        assert!(
            exprs.iter().any(|expr| expr.contains(metric)),
            "no alert watches {metric}: {exprs:#?}"
        );
        if let Some(source) = source {
            let code = std::fs::read_to_string(repo_file(source)).unwrap();
            assert!(
                code.contains(&format!("\"{metric}\"")),
                "{source} no longer exports {metric}"
            );
        }
    }
}
