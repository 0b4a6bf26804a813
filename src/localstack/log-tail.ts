import { readFileSync } from 'node:fs';

/** The last `count` non-empty lines of a log file; empty if the file does not exist (yet). */
export function lastLogLines(file: string, count: number): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return lastLines(text, count);
}

/** The last `count` non-empty lines of a text. */
export function lastLines(text: string, count: number): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0)
    .slice(-count);
}
