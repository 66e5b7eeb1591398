import CAsound
import Glibc
import Testing

@Suite("libasound through CAsound")
struct CAsoundTests {
    @Test("a PCM defined in a config string opens through snd_pcm_open_lconf, and an undefined one fails with ENOENT")
    func configFromString() throws {
        _ = sluice_alsa_silence_errors()
        var conf: OpaquePointer? = nil
        #expect(sluice_alsa_config_from_string("pcm.sluicenull { type null }", &conf) == 0)
        defer { snd_config_delete(conf) }
        var pcm: OpaquePointer? = nil
        #expect(snd_pcm_open_lconf(&pcm, "sluicenull", SND_PCM_STREAM_PLAYBACK, 0, conf) == 0)
        #expect(String(cString: snd_pcm_type_name(snd_pcm_type(pcm))) == "NULL")
        snd_pcm_close(pcm)
        var missing: OpaquePointer? = nil
        #expect(snd_pcm_open_lconf(&missing, "nosuchpcm", SND_PCM_STREAM_PLAYBACK, 0, conf) == -ENOENT)
    }

    @Test("hw and sw parameter containers come from the _malloc helpers")
    func paramContainers() {
        let hw = sluice_alsa_hw_params_new()
        let sw = sluice_alsa_sw_params_new()
        #expect(hw != nil && sw != nil)
        snd_pcm_hw_params_free(hw)
        snd_pcm_sw_params_free(sw)
    }
}
