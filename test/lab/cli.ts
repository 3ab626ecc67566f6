// `npm run lab -- up|down|status [--prefix P] [--uplinks N] [--apps]`: the lab for people.
import { parseArgs } from 'node:util';
import { downStale } from './cleanup.ts';
import { DEFAULT_PREFIX, DEFAULT_UPLINKS, Lab, downByPrefix, requireRoot, type LabStatus } from './lab.ts';
import { checkPrefix } from './topology.ts';

const USAGE = `usage: lab up|down|status|move [--prefix P] [--uplinks N] [--apps] [--stub] [--stale]
  up       create the namespaced network (desktop, one ISP per uplink, internet, gateway) and its servers
  down     remove everything named after the prefix (also after a crash)
  status   show namespaces, uplinks, servers and running apps
  move ID  uplink ID (a, b, …) joins another network: down, a new gateway MAC, up again
  --prefix P   name prefix of everything created (default ${DEFAULT_PREFIX})
  --uplinks N  number of uplinks for up (default ${DEFAULT_UPLINKS})
  --apps       also start the sample apps (lab-browser, lab-chat, lab-updater)
  --stub       with up: the desktop's resolv.conf names the resolved-like stub at 127.0.0.53 (which asks
               the default uplink's ISP resolver) instead of the lab DNS, as on a desktop with resolved
  --stale      with down: remove every lab whose owning test process died without cleaning up`;

function printStatus(s: LabStatus): void {
  const line = (text = '') => console.log(text);
  line(`Lab "${s.prefix}"`);
  line('Namespaces:');
  for (const ns of s.namespaces) line(`  ${ns.exists ? '✓' : '✗'} ${ns.name}`);
  line('Uplinks (in ' + `${s.prefix}-desktop):`);
  for (const u of s.uplinks) {
    const rate = u.rateMbit === null ? '' : `, limited to ${u.rateMbit} Mbit/s`;
    line(
      `  ${u.id}  ${u.ifname.padEnd(7)} ${u.kind.padEnd(8)} ${u.operstate.padEnd(7)} metric ${u.metric}${rate}`,
    );
    line(
      `      ${u.addresses.join('  ') || '(no addresses)'}  via ${u.gateways.v4} / ${u.gateways.v6}  (ISP ${u.ispNs})`,
    );
  }
  const v = s.servers;
  line(`Servers (in ${s.prefix}-internet) at ${v.v4} and ${v.v6}:`);
  line(`  HTTP :${v.httpPort}   UDP echo :${v.udpEchoPort}   DNS :${v.dnsPort}   iperf3 :${v.iperf3Port}`);
  line(`  DNS names: ${v.names.server}, ${v.names.gateway}, ${v.names.whoami} (TXT: who asked)`);
  line(`Gateway (${s.prefix}-gateway): ${v.gatewayV4}, ${v.gatewayV6} (its resolver answers there too)`);
  line('ISP resolvers: each on its uplink gateway (198.18.n.1, fd5a:n::1); stub: 127.0.0.53 in the desktop');
  line('Processes:');
  for (const p of s.processes) {
    line(
      `  ${p.running ? 'running' : 'stopped'}  ${p.kind.padEnd(6)} ${p.name.padEnd(12)} pid ${p.pid}${p.logFile ? `  log ${p.logFile}` : ''}`,
    );
  }
  line(`Desktop entries: XDG_DATA_DIRS=${s.dataDir}`);
  line(`Try: sudo ip netns exec ${s.prefix}-desktop curl -s http://server.lab/`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      prefix: { type: 'string', default: DEFAULT_PREFIX },
      uplinks: { type: 'string', default: String(DEFAULT_UPLINKS) },
      apps: { type: 'boolean', default: false },
      stub: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      stale: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > (command === 'move' ? 2 : 1))
    throw new Error(`Unexpected argument "${positionals.at(-1)}"; see lab --help.`);
  const prefix = checkPrefix(values.prefix);
  requireRoot();

  switch (command) {
    case 'up': {
      const uplinks = Number(values.uplinks);
      const lab = await Lab.up({
        prefix,
        uplinks,
        startApps: values.apps && !values.stub,
        cleanupOnExit: false,
      });
      if (values.stub) {
        // Before the apps start: a process takes its resolv.conf when it starts.
        await lab.setSystemResolver('stub');
        if (values.apps) for (const app of lab.appNames) await lab.startApp(app);
      }
      printStatus(await lab.status());
      console.log(`\nLab "${prefix}" is up. Take it down with: lab down --prefix ${prefix}`);
      return;
    }
    case 'down': {
      if (values.stale) {
        const removed = await downStale();
        console.log(removed.length ? `Removed stale labs: ${removed.join(', ')}.` : 'No stale labs.');
        return;
      }
      const report = await downByPrefix(prefix);
      if (values.quiet) return;
      const nothing =
        report.namespaces.length + report.killed.length + report.cgroups.length + report.bpfPins.length ===
          0 && !report.stateDirRemoved;
      if (nothing) console.log(`Nothing to remove for lab "${prefix}".`);
      else {
        console.log(
          `Lab "${prefix}" is down: ${report.namespaces.length} namespaces, ${report.killed.length} processes, ` +
            `${report.cgroups.length} cgroups, ${report.bpfPins.length} bpf pins removed.`,
        );
      }
      return;
    }
    case 'status': {
      printStatus(await (await Lab.attach(prefix)).status());
      return;
    }
    case 'move': {
      const id = positionals[1];
      if (!id) throw new Error('move: name the uplink, e.g. `lab move a`.');
      const { gatewayMac } = await (await Lab.attach(prefix)).moveUplink(id);
      console.log(`Uplink ${id} is on another network now: its gateway answers as ${gatewayMac}.`);
      return;
    }
    default:
      throw new Error(`Unknown command "${command}"; use up, down, status or move.`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
