// System logs (<log dir>/app.log): API requests and service events, in the same line format as task logs.
import fs from 'node:fs';
import path from 'node:path';
import { maskQuerySecrets, maskSecretsInText } from '../postgres/connection-string.ts';
import { formatLogLine, levelSeverity, type LogLevel } from './format.ts';

export class SystemLog {
  private readonly stream: fs.WriteStream;

  constructor(
    logDir: string,
    private readonly minLevel: LogLevel,
    private readonly alsoToStderr = false,
  ) {
    fs.mkdirSync(logDir, { recursive: true });
    this.stream = fs.createWriteStream(path.join(logDir, 'app.log'), { flags: 'a' });
    this.stream.on('error', () => undefined); // a full disk must not take the API down
  }

  write(level: LogLevel, logger: string, message: string): void {
    if (levelSeverity(level) < levelSeverity(this.minLevel)) return;
    const line = formatLogLine(new Date(), level, logger, maskQuerySecrets(maskSecretsInText(message)));
    this.stream.write(line);
    if (this.alsoToStderr) process.stderr.write(line);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }
}
