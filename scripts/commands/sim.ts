import type { Command } from 'commander';

/** Registers `itasim sim`. */
export function register(_program: Command): void {}
