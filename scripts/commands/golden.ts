import type { Command } from 'commander';

/** Registers `itasim golden`. */
export function register(_program: Command): void {}
