import type { Command } from 'commander';

/** Registers `itasim fuzz`. */
export function register(_program: Command): void {}
