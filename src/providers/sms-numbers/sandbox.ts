/**
 * The sandbox's SMS accounts and numbers: everything simulated, deterministic and visible. An
 * account is `SB` + 32 hex digits; the numbers offered in area code AAA are the fictional
 * +1AAA5550100 … +1AAA5550199, in that order (the texts domain takes the first one the tenant does
 * not hold yet); a held number's id is `SP` + 32 hex digits of its number. Any number of the
 * sandbox account counts as held (claiming one never fails). The carrier lookup answers from the
 * last digit: 0–5 `mobile` on "Sandbox Mobile" (310/260), 6–7 `landline` on "Sandbox Landline",
 * 8 `nonFixedVoip` on "Sandbox VoIP", 9 an unknown number (error `not_found`).
 */
import { createHash, randomBytes } from 'node:crypto'
import { ProviderError } from '../types.ts'
import type { CarrierInfo, NumbersProvider, VendorNumber } from './types.ts'

const hex = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32)

/** The sandbox's view of a number: offered or held, SMS and MMS, located in its area code. */
function sandboxNumber(phoneNumber: string, held: boolean): VendorNumber {
  const area = phoneNumber.slice(2, 5)
  return {
    phoneNumber, id: held ? `SP${hex(phoneNumber)}` : '', capabilities: { sms: true, mms: true, voice: false },
    lata: '000', latitude: '0.0', longitude: '0.0', postalCode: '00000', rateCenter: `SANDBOX ${area}`, region: 'ZZ',
  }
}

export function createSandboxNumbers(): NumbersProvider {
  return {
    id: 'sandbox',
    async createAccount() {
      return { accountId: `SB${randomBytes(16).toString('hex')}` }
    },
    async searchNumbers(_accountId, areaCode) {
      if (!/^[2-9]\d\d$/.test(areaCode)) return []
      return Array.from({ length: 100 }, (_, i) => sandboxNumber(`+1${areaCode}55501${String(i).padStart(2, '0')}`, false))
    },
    async buyNumber(_accountId, phoneNumber) {
      if (!/^\+1[2-9]\d{9}$/.test(phoneNumber)) throw new ProviderError('invalid_number', `sandbox: ${phoneNumber} is not a US number`, { retryable: false })
      return sandboxNumber(phoneNumber, true)
    },
    async findNumber(_accountId, phoneNumber) {
      return sandboxNumber(phoneNumber, true)
    },
    // The sandbox's inbound messages come through its own simulator, not a webhook.
    async setWebhooks() {},
    async lookup(phoneNumber): Promise<CarrierInfo> {
      const d = Number(phoneNumber.at(-1))
      if (d <= 5) return { type: 'mobile', carrierName: 'Sandbox Mobile', mobileCountryCode: '310', mobileNetworkCode: '260', error: '' }
      if (d <= 7) return { type: 'landline', carrierName: 'Sandbox Landline', mobileCountryCode: '', mobileNetworkCode: '', error: '' }
      if (d === 8) return { type: 'nonFixedVoip', carrierName: 'Sandbox VoIP', mobileCountryCode: '', mobileNetworkCode: '', error: '' }
      return { type: '', carrierName: '', mobileCountryCode: '', mobileNetworkCode: '', error: 'not_found' }
    },
  }
}
