import { expect, it } from 'vitest'
import { generatePassword, hashPassword, isPasswordHash, verifyPassword } from './passwords.ts'

it('a hashed password verifies, a wrong one does not, and each hash has its own salt', async () => {
  const hash = await hashPassword('correct horse battery')
  expect(isPasswordHash(hash)).toBe(true)
  expect(hash).not.toContain('correct')
  expect(await verifyPassword('correct horse battery', hash)).toBe(true)
  expect(await verifyPassword('correct horse batterY', hash)).toBe(false)
  expect(await hashPassword('correct horse battery')).not.toBe(hash)
})

it('malformed or weakened hashes are refused, never verified', async () => {
  expect(await verifyPassword('x', 'plain')).toBe(false)
  expect(isPasswordHash('scrypt$1024$8$1$c2FsdHNhbHRzYWx0c2FsdA$' + 'a'.repeat(43))).toBe(false) // N too small
  expect(isPasswordHash('scrypt$32768$8$1$short$' + 'a'.repeat(43))).toBe(false)
})

it('generated passwords are 4 groups of 4 and differ', () => {
  const a = generatePassword()
  expect(a).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/)
  expect(generatePassword()).not.toBe(a)
})
