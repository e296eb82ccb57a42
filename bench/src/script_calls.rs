//! How many script calls (`EVAL`/`EVALSHA`) Redis has run, from `INFO commandstats`: the router
//! benchmark reads it around tenor-router's turns to print how many Redis round trips its rate
//! limiter made per request (stock hive-router makes none; nothing else calls scripts while the
//! benchmark runs).

pub struct ScriptCalls {
    connection: redis::aio::MultiplexedConnection,
}

impl ScriptCalls {
    pub async fn connect(redis_url: &str) -> anyhow::Result<Self> {
        let connection = redis::Client::open(redis_url)?
            .get_multiplexed_async_connection()
            .await?;
        Ok(Self { connection })
    }

    /// Script calls Redis has run since it started.
    pub async fn so_far(&mut self) -> anyhow::Result<u64> {
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut self.connection)
            .await?;
        Ok(script_calls_in(&info))
    }
}

/// `cmdstat_eval:calls=12,usec=…` and `cmdstat_evalsha:calls=…` added up.
fn script_calls_in(info: &str) -> u64 {
    info.lines()
        .filter_map(|line| {
            let (name, stats) = line.trim().split_once(':')?;
            matches!(name, "cmdstat_eval" | "cmdstat_evalsha").then_some(stats)
        })
        .filter_map(|stats| {
            stats
                .split(',')
                .find_map(|field| field.strip_prefix("calls="))
                .and_then(|calls| calls.parse::<u64>().ok())
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::script_calls_in;

    #[test]
    fn eval_and_evalsha_calls_are_added_up() {
        let info = "# Commandstats\r\ncmdstat_get:calls=5,usec=1\r\ncmdstat_evalsha:calls=9841,usec=976632,usec_per_call=99.24\r\ncmdstat_eval:calls=3,usec=10\r\n";
        assert_eq!(script_calls_in(info), 9844);
        assert_eq!(script_calls_in("# Commandstats\r\n"), 0);
    }
}
