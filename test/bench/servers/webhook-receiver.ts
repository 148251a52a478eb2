/**
 * The notify benchmark's webhook receiver, in a process of its own so that the arrival times it prints are not
 * delayed by the benchmark's own work (kube-sim runs in the benchmark's process). Prints `listening <url> <secret>`,
 * then `recv <webhook-id> <epoch ms> <1 if the signature checked out, else 0>` per request.
 */
import { startWebhookReceiver } from '../../support/webhook-receiver.ts';

const receiver = await startWebhookReceiver({
  onReceive: (r) => process.stdout.write(`recv ${r.id} ${r.at} ${r.verified ? 1 : 0}\n`),
});
process.stdout.write(`listening ${receiver.url} ${receiver.secret}\n`);
process.on('SIGTERM', () => void receiver.close().then(() => process.exit(0)));
