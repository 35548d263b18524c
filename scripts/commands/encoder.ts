import type { Command } from 'commander';

/** Registers `itasim encoder`. */
export function register(_program: Command): void {}
