// Directory mode's bootstrap tokens read from a file that may change while the CA runs: the file
// is re-read when its modification time or size changes, so adding a workload's token needs no
// restart. A file that stops parsing keeps the previous tokens (and says why once).
import { stat, readFile } from 'node:fs/promises';
import {
  BootstrapTokenAuthenticator,
  type Authenticator,
  type CallCredentials,
  type Caller,
} from './authenticator.js';

export class TokensFileAuthenticator implements Authenticator {
  readonly name = 'bootstrap-token';
  private current: BootstrapTokenAuthenticator | undefined;
  private stamp = '';

  constructor(
    private readonly path: string,
    private readonly trustDomain: string,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  /** Reads the file now (at start, so a broken file fails loudly). */
  async load(): Promise<this> {
    this.current = BootstrapTokenAuthenticator.parse(await readFile(this.path, 'utf8'), this.trustDomain);
    this.stamp = await this.stampOf();
    return this;
  }

  async authenticate(creds: CallCredentials): Promise<Caller | undefined> {
    await this.refresh();
    return this.current?.authenticate(creds);
  }

  private async stampOf(): Promise<string> {
    const s = await stat(this.path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }

  private async refresh(): Promise<void> {
    let stamp: string;
    try {
      stamp = await this.stampOf();
    } catch (e) {
      return this.failed(
        `tokens file ${this.path}: ${(e as Error).message}; keeping the previous tokens`,
        'gone',
      );
    }
    if (stamp === this.stamp) return;
    try {
      this.current = BootstrapTokenAuthenticator.parse(await readFile(this.path, 'utf8'), this.trustDomain);
      this.stamp = stamp;
    } catch (e) {
      this.failed(`tokens file ${this.path}: ${(e as Error).message}; keeping the previous tokens`, stamp);
    }
  }

  private failed(message: string, stamp: string): void {
    if (this.stamp === `failed:${stamp}`) return;
    this.stamp = `failed:${stamp}`;
    this.onError(message);
  }
}
