export const title = 'golden';

export function run(): void {
  console.log('not implemented yet');
}
