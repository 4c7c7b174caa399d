import BatonHandlerKit

/// The provider clients of one slice, made on first use: Messenger for PSIDs (seed 004),
/// Twilio for `sms`, SMTP for `email`; one send path for text and media.
struct Channels {
    var messenger: MessengerClient?
    var twilio: TwilioClient?
    var smtp: SMTPClient?

    mutating func send(_ message: BatchesTable.Message, to recipient: String, slice: Slice) throws(ProviderError) -> Receipt {
        switch message.channel {
        case "sms":
            if twilio == nil { twilio = try TwilioClient(environment: slice.environment, deadline: slice.deadline()) }
            return try twilio!.send(to: recipient, from: slice.environment["TWILIO_FROM"] ?? "+15550000000", body: message.body,
                                    mediaURL: message.mediaURL)
        case "email":
            if smtp == nil { smtp = try SMTPClient(environment: slice.environment, deadline: slice.deadline()) }
            return try smtp!.send(from: slice.environment["SMTP_FROM"] ?? "baton@localhost", to: [recipient],
                                  subject: slice.environment["SMTP_SUBJECT"] ?? "Message", text: message.body)
        default:
            if messenger == nil { messenger = try MessengerClient(environment: slice.environment, deadline: slice.deadline()) }
            // Media goes as an attachment, text otherwise: the same path for both.
            return try messenger!.send(psid: recipient, text: message.body, imageURL: message.mediaURL)
        }
    }
}
