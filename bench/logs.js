// Pulling 1 000 task logs: `download` (one remote tar stream) vs one SFTP read per file, over one open connection
// each, on the test cluster. The 1 000 log files are written into a held 1 000-task job's logs/ folder first
// (tasks of the test bed run ~9 a second: 1 000 real ones would take minutes and prove nothing more here).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dist, median, routeOf, row, time } from './lib.js';

export async function logsRows(env, home) {
  const { SlurmWrapper } = await dist('index.js');
  const { connectSsh } = await dist('transport/ssh.js');
  const { quote } = await dist('util/quote.js');
  const pilot = new SlurmWrapper({ home });
  const record = await pilot.store.read('k1000-open-0');
  const jobId = record.attempts[0].arrays[0].jobId;
  const logs = `${record.remote.jobDir}/logs`;
  const ssh = await connectSsh(await routeOf(env.target));
  // 1 000 stdout files of ~2 KB each, as tasks that print a little progress would leave
  await ssh.exec(`cd ${quote(logs)} && line=$(printf 'epoch %04d loss 0.123456 acc 0.987654\\n' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50) && for i in $(seq 1 1000); do printf '%s\\n' "$line" > ${jobId}_$i.out; done`);
  const files = Array.from({ length: 1000 }, (_, i) => `${logs}/${jobId}_${i + 1}.out`);
  const stream = [], sftp = [];
  let streamBytes = 0, sftpBytes = 0;
  for (let round = 0; round < 3; round++) {
    sftp.push(await time(async () => {
      sftpBytes = 0;
      for (const f of files) await ssh.readStream(f, { start: 0, onChunk: (c) => { sftpBytes += c.length; } });
    }));
    stream.push(await time(async () => { streamBytes = (await pilot.download('k1000-open-0', { to: mkdtempSync(join(tmpdir(), 'pilot-bench-dl-')), glob: 'logs/*.out' })).bytes; }));
  }
  row({ what: 'pull 1000 task logs (open connection)', ref: { label: `1000 SFTP reads ${Math.round(sftpBytes / 1024)} KB`, value: median(sftp) }, ours: { label: `download, 1 stream ${Math.round(streamBytes / 1024)} KB gz`, value: median(stream) }, unit: 's', source: 'real' });
  await ssh.close();
  await pilot.close();
}
