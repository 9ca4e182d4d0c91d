/** Prints `json` as one JSON line when asked for, else the human line. */
export function printResult(asJson: boolean, json: unknown, line: string): void {
  process.stdout.write(asJson ? `${JSON.stringify(json)}\n` : `${line}\n`);
}
