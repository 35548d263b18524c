import type { Command } from 'commander';

/** Registers `itasim cluster`. */
export function register(_program: Command): void {}
